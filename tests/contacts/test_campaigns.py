"""Outbound campaigns on a client's behalf: through the outbox in the client's name, never to
a customer who opted out, held in quiet hours and sent after them, once per customer."""

from datetime import UTC, datetime

import pytest
from django.utils.translation import gettext, override

from contacts.campaigns import campaign_create, campaign_launch, campaign_message_send_due
from contacts.models import CampaignMessage, ContactSettings
from contacts.services import contact_settings_ensure
from contacts.tasks import send_due_campaign_messages
from notifications.models import Notification
from surveys.models import OptOut
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 12:00 in Almaty
NIGHT = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # 23:00 in Almaty
MORNING = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)  # 10:00 in Almaty


@pytest.fixture
def customers(tenant):
    contact_settings_ensure(tenant=tenant)  # quiet 21–09
    return [CustomerFactory(tenant=tenant, email=f"c{n}@example.kz") for n in range(3)]


def campaign(tenant, manager, channel="sms"):
    return campaign_create(
        tenant=tenant, name="Upgrade", channel=channel, body="Faster plans are here.", actor=manager
    )


def test_a_campaign_reaches_every_customer_in_the_clients_name_except_who_opted_out(
    tenant, manager, customers
):
    OptOut.objects.create(tenant=tenant, phone=customers[0].phone, source="sms")

    counts = campaign_launch(campaign=campaign(tenant, manager), now=NOON)

    assert counts == {"sent": 2, "scheduled": 0, "skipped": 1}
    sent = Notification.objects.filter(kind="campaign")
    assert sorted(sent.values_list("recipient", flat=True)) == sorted(
        c.phone for c in customers[1:]
    )
    with override(tenant.language):  # the customers' language: theirs, or the client's
        expected = gettext("%(tenant)s: %(text)s Reply STOP to receive no more messages.") % {
            "tenant": tenant.name,
            "text": "Faster plans are here.",
        }
    assert [n.body for n in sent] == [expected] * 2


def test_launching_again_reaches_nobody_twice(tenant, manager, customers):
    first = campaign(tenant, manager, channel="email")
    campaign_launch(campaign=first, now=NOON)
    again = campaign_launch(campaign=first, now=NOON)

    assert again == {"sent": 0, "scheduled": 0, "skipped": 0}
    assert Notification.objects.filter(kind="campaign").count() == 3


def test_in_quiet_hours_messages_wait_and_go_out_after_them(tenant, manager, customers):
    counts = campaign_launch(campaign=campaign(tenant, manager), now=NIGHT)
    waiting = list(CampaignMessage.objects.values_list("pk", flat=True))

    assert counts["scheduled"] == 3
    assert not Notification.objects.exists()
    assert campaign_message_send_due(message_id=waiting[0], now=NIGHT) == "waiting"
    OptOut.objects.create(tenant=tenant, phone=customers[1].phone, source="sms")
    results = [campaign_message_send_due(message_id=pk, now=MORNING) for pk in waiting]
    assert sorted(results) == ["opted_out", "sent", "sent"]
    assert campaign_message_send_due(message_id=waiting[0], now=MORNING) == "skipped"  # twice
    assert Notification.objects.filter(kind="campaign").count() == 2


def test_the_beat_task_is_harmless_to_run_twice(tenant, manager, customers):
    ContactSettings.objects.filter(tenant=tenant).update(quiet_start_hour=0, quiet_end_hour=0)
    campaign_launch(campaign=campaign(tenant, manager), now=NOON)

    assert send_due_campaign_messages() == 0
    assert send_due_campaign_messages() == 0


def test_the_api_launches_a_campaign_for_the_managers_client_only(
    api, tenant, other_tenant, manager, operator, customers
):
    ContactSettings.objects.filter(tenant=tenant).update(quiet_start_hour=0, quiet_end_hour=0)
    foreign = CustomerFactory(tenant=other_tenant)
    body = {"channel": "sms", "body": "Hello", "customers": [customers[0].pk]}

    created = api(manager).post("/api/v1/contacts/campaigns/", body, format="json")
    mixed = api(manager).post(
        "/api/v1/contacts/campaigns/", {**body, "customers": [foreign.pk]}, format="json"
    )
    refused = api(operator).post("/api/v1/contacts/campaigns/", body, format="json")
    listed = api(manager).get("/api/v1/contacts/campaigns/")

    assert created.status_code == 201 and created.json()["sent"] == 1
    assert mixed.status_code == 400
    assert refused.status_code == 403
    assert [row["sent"] for row in listed.json()] == [1]


def test_an_sms_campaign_too_long_is_refused(api, manager, customers):
    response = api(manager).post(
        "/api/v1/contacts/campaigns/", {"channel": "sms", "body": "x" * 481}, format="json"
    )

    assert response.status_code == 400
    assert "body" in response.json()
