"""The outbox: every message is sent once, retried with backoff, given up on, never forgotten."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.backends import DeliveryError
from notifications.models import Notification
from notifications.services import MAX_ATTEMPTS, notification_deliver, notification_enqueue
from notifications.tasks import deliver_notifications, retry_due_notifications

pytestmark = pytest.mark.django_db

SEND = "notifications.backends.SMS_BACKENDS"


def message(tenant, key="booked:1") -> Notification:
    return notification_enqueue(
        tenant_id=tenant.pk,
        channel=Notification.Channel.SMS,
        recipient="+77010000001",
        body="Your visit is booked",
        kind="window_booked",
        dedupe_key=key,
    )


@pytest.fixture
def gateway():
    sent = mock.Mock()
    with mock.patch.dict(SEND, {"console": sent}):
        yield sent


def test_a_message_is_sent_once_and_marked_sent(tenant, gateway):
    notification = message(tenant)

    assert notification_deliver(notification_id=notification.pk) == "sent"
    assert notification_deliver(notification_id=notification.pk) == "skipped"  # a double run

    notification.refresh_from_db()
    assert (notification.status, notification.attempts, gateway.call_count) == ("sent", 1, 1)


def test_the_same_message_enqueued_twice_is_one_row(tenant):
    assert message(tenant) is not None
    assert message(tenant) is None
    assert Notification.objects.count() == 1


def test_a_failed_delivery_is_retried_later_with_a_growing_backoff(tenant, gateway):
    gateway.side_effect = DeliveryError("gateway answered 503")
    notification = message(tenant)

    waits = []
    for _ in range(3):
        Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())
        before = timezone.now()
        assert notification_deliver(notification_id=notification.pk) == "retry"
        notification.refresh_from_db()
        waits.append((notification.next_attempt_at - before).total_seconds())

    assert notification.attempts == 3 and "503" in notification.last_error
    assert 25 < waits[0] < waits[1] < waits[2]


def test_after_the_last_attempt_it_is_given_up_on(tenant, gateway):
    gateway.side_effect = DeliveryError("refused")
    notification = message(tenant)
    Notification.objects.filter(pk=notification.pk).update(attempts=MAX_ATTEMPTS - 1)

    assert notification_deliver(notification_id=notification.pk) == "failed"
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED


def test_an_unexpected_error_counts_as_an_attempt_and_is_retried(tenant, gateway):
    gateway.side_effect = KeyError("bug in a backend")
    notification = message(tenant)

    assert notification_deliver(notification_id=notification.pk) == "retry"
    notification.refresh_from_db()
    assert notification.attempts == 1 and "KeyError" in notification.last_error


@pytest.mark.django_db(transaction=True)
def test_a_message_whose_delivery_task_was_lost_is_sent_by_the_retry_beat(tenant, gateway):
    with mock.patch("notifications.tasks.deliver_notifications.delay"), transaction.atomic():
        notification = message(tenant)  # its doorbell never rings

    assert retry_due_notifications() == 1
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert retry_due_notifications() == 0


def test_a_message_not_yet_due_again_waits_for_its_backoff(tenant, gateway):
    notification = message(tenant)
    Notification.objects.filter(pk=notification.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )

    assert services.due_notification_ids() == []


def test_the_delivery_task_is_harmless_to_run_twice(tenant, gateway):
    notification = message(tenant)

    assert deliver_notifications(notification_ids=[notification.pk]) == ["sent"]
    assert deliver_notifications(notification_ids=[notification.pk]) == ["skipped"]
    assert gateway.call_count == 1
