"""Rows the platform keeps for its own workings are purged after their retention, no sooner."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from core.events import event_emit
from core.models import Event
from core.tasks import purge_expired
from notifications.models import Notification
from notifications.services import notification_enqueue
from requests_app.models import IdempotencyKey

pytestmark = pytest.mark.django_db


def test_what_outlived_its_retention_is_purged_and_the_rest_kept(tenant, dispatcher, settings):
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "events": 30, "notifications": 90}
    with transaction.atomic():
        old, recent = (event_emit(tenant_id=tenant.pk, kind="x", payload={}) for _ in range(2))
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    for key, status in (("sent-old", "sent"), ("pending-old", "pending")):
        notification_enqueue(
            tenant_id=tenant.pk,
            channel="sms",
            recipient="+77010000001",
            body="b",
            kind="k",
            dedupe_key=key,
        )
        Notification.objects.filter(dedupe_key=key).update(
            status=status, created_at=timezone.now() - timedelta(days=100)
        )
    IdempotencyKey.objects.create(tenant=tenant, key="k1", fingerprint="f")
    IdempotencyKey.objects.filter(key="k1").update(created_at=timezone.now() - timedelta(days=3))
    AuthToken.objects.create(dispatcher, expiry=timedelta(seconds=-1))
    valid, _ = AuthToken.objects.create(dispatcher)

    deleted = purge_expired()

    assert set(Event.objects.values_list("pk", flat=True)) == {recent.pk}
    # A message still waiting to be sent is never purged, however old.
    assert list(Notification.objects.values_list("dedupe_key", flat=True)) == ["pending-old"]
    assert not IdempotencyKey.objects.exists()
    assert list(AuthToken.objects.all()) == [valid]
    assert deleted["events"] == 1 and deleted["notifications"] == 1
    assert purge_expired() == dict.fromkeys(deleted, 0)  # twice is harmless
