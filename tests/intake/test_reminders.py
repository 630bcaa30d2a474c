"""Visit reminders: a day ahead, one message per request and window, whatever the retries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from intake.tasks import send_visit_reminders
from notifications.models import Notification
from requests_app.models import ServiceRequest
from technicians.models import Visit
from tests.factories import CustomerFactory
from tests.intake.helpers import inbound_setup, tracked_in, visit_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def inbound(settings, tenant):
    inbound_setup(settings, tenant)


def local_time(moment, tenant) -> str:
    return timezone.localtime(moment, tenant.zone).strftime("%H:%M")


def test_a_visit_tomorrow_gets_one_sms_reminder_in_the_tenants_time(tenant, customer, technician):
    request = visit_in(tenant, customer, technician, hours=20)

    assert send_visit_reminders() == 1

    reminder = Notification.objects.get()
    assert (reminder.channel, reminder.recipient, reminder.kind) == (
        "sms",
        customer.phone,
        "visit_reminder",
    )
    assert reminder.request == request
    start, end = local_time(request.window_start, tenant), local_time(request.window_end, tenant)
    assert f"Reminder of your visit {request.number}" in reminder.body
    assert f"between {start} and {end}" in reminder.body
    assert "Reply 1 to confirm, 2 to choose another time." in reminder.body


def test_running_twice_sends_nothing_twice(tenant, customer, technician):
    visit_in(tenant, customer, technician, hours=3)

    assert send_visit_reminders() == 1
    assert send_visit_reminders() == 0
    assert Notification.objects.count() == 1


def test_a_moved_window_is_reminded_again(tenant, customer, technician):
    request = visit_in(tenant, customer, technician, hours=3)
    send_visit_reminders()
    request.window_start += timedelta(hours=2)
    request.window_end += timedelta(hours=2)
    request.save()

    assert send_visit_reminders() == 1
    assert Notification.objects.count() == 2


def test_a_customer_without_a_phone_is_reminded_by_e_mail_with_the_link(tenant, technician):
    customer = CustomerFactory(tenant=tenant, phone="", email="dana@example.kz")
    request = visit_in(tenant, customer, technician, hours=5)

    send_visit_reminders()

    reminder = Notification.objects.get()
    assert (reminder.channel, reminder.recipient) == ("email", "dana@example.kz")
    assert tracked_in(reminder.body, query="?change=1") == request
    assert "Reply 1" not in reminder.body


def test_visits_beyond_a_day_or_without_a_live_visit_are_not_reminded(tenant, customer, technician):
    visit_in(tenant, customer, technician, hours=30)
    cancelled = visit_in(tenant, customer, technician, hours=4)
    cancelled.status = ServiceRequest.Status.CANCELLED
    cancelled.save(update_fields=["status"])
    unbooked = visit_in(tenant, customer, technician, hours=5)
    Visit.objects.filter(request=unbooked).update(status=Visit.Status.CANCELLED)

    assert send_visit_reminders() == 0
    assert not Notification.objects.exists()
