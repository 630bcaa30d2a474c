"""The contact center's API and pages: the queue, a contact's screen with its client's name and
colour, reply through the outbox in the client's name, a request made from a contact."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from contacts.models import Contact, ContactMessage
from notifications.models import Notification
from requests_app.models import ServiceRequest, StatusChange
from tests.contacts.helpers import contact_in, operator_of

pytestmark = pytest.mark.django_db


def test_the_queue_lists_the_open_contacts_of_the_users_clients_most_urgent_first(
    api, tenant, other_tenant, operator
):
    later = contact_in(tenant, due_in=30)
    sooner = contact_in(tenant, due_in=5)
    contact_in(other_tenant, due_in=1)
    contact_in(tenant, status=Contact.Status.DONE, done_at=timezone.now())

    response = api(operator).get("/api/v1/contacts/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [sooner.pk, later.pk]
    assert response.json()[0]["client"] == "Almaty Telecom"
    assert response.json()[0]["client_colour"] == tenant.brand_color


def test_an_operator_of_another_client_never_sees_a_contact(api, tenant, other_tenant):
    contact = contact_in(tenant)
    stranger = operator_of(other_tenant, username="beta-op")

    assert api(stranger).get(f"/api/v1/contacts/{contact.pk}/").status_code == 404
    assert api(stranger).get("/api/v1/contacts/").json() == []
    assert api(stranger).post("/api/v1/contacts/take-next/").status_code == 204


def test_take_next_over_the_api(api, tenant, operator):
    contact = contact_in(tenant)

    response = api(operator).post("/api/v1/contacts/take-next/")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["status"]) == (contact.pk, "in_progress")


def test_a_reply_to_an_email_goes_out_through_the_outbox_in_the_clients_name(api, tenant, operator):
    contact = contact_in(tenant, channel="email", sender="aigerim@example.kz")

    response = api(operator).post(
        f"/api/v1/contacts/{contact.pk}/reply/", {"body": "We are on it."}, format="json"
    )

    assert response.status_code == 201
    contact.refresh_from_db()
    assert contact.status == Contact.Status.WAITING
    assert contact.first_response_at is not None
    assert contact.assigned_to == operator
    sent = Notification.objects.get(kind="contact_reply")
    assert (sent.channel, sent.recipient) == ("email", "aigerim@example.kz")
    assert "Almaty Telecom" in sent.subject and sent.body.endswith("Almaty Telecom")


def test_a_reply_to_an_sms_is_an_sms_signed_with_the_clients_name(api, tenant, operator):
    contact = contact_in(tenant, channel="sms", sender="+77011234567")

    api(operator).post(f"/api/v1/contacts/{contact.pk}/reply/", {"body": "Hi"}, format="json")

    sent = Notification.objects.get(kind="contact_reply")
    assert (sent.channel, sent.recipient, sent.body) == (
        "sms",
        "+77011234567",
        "Almaty Telecom: Hi",
    )


def test_an_oversized_reply_is_refused_with_a_message(api, tenant, operator):
    contact = contact_in(tenant)

    response = api(operator).post(
        f"/api/v1/contacts/{contact.pk}/reply/", {"body": "x" * 5000}, format="json"
    )

    assert response.status_code == 400
    assert "body" in response.json()


def test_an_emergency_from_a_contact_carries_the_conversation_into_the_requests_history(
    api, tenant, operator, customer, technician
):
    contact = contact_in(tenant, channel="chat", body="No internet since morning")
    api(operator).post(f"/api/v1/contacts/{contact.pk}/customer/", {"customer": customer.pk})

    response = api(operator).post(
        f"/api/v1/contacts/{contact.pk}/request/",
        {"kind": "emergency", "category": "outage"},
        format="json",
    )

    assert response.status_code == 201
    request = ServiceRequest.objects.get(pk=response.json()["id"])
    assert request.customer == customer
    assert "No internet since morning" in request.description
    history = StatusChange.objects.filter(request=request).values_list("reason", flat=True)
    assert any(contact.number in reason and "No internet" in reason for reason in history)
    contact.refresh_from_db()
    assert contact.request == request
    assert contact.messages.filter(direction=ContactMessage.Direction.NOTE).exists()


def test_a_planned_request_from_a_contact_is_booked_in_the_window(api, tenant, operator, customer):
    contact = contact_in(tenant, customer=customer)
    start = (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)

    response = api(operator).post(
        f"/api/v1/contacts/{contact.pk}/request/",
        {
            "kind": "planned",
            "category": "repair",
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(hours=2)).isoformat(),
        },
        format="json",
    )

    # No technician is on shift then: the booking refuses the window, as every channel's does.
    assert response.status_code in (201, 409)
    if response.status_code == 201:
        assert ServiceRequest.objects.get().window_start == start


def test_no_request_is_made_before_the_customer_is_identified(api, tenant, operator):
    contact = contact_in(tenant)

    response = api(operator).post(
        f"/api/v1/contacts/{contact.pk}/request/",
        {"kind": "emergency", "category": "outage"},
        format="json",
    )

    assert response.status_code == 400
    assert "customer" in response.json()


def test_a_contact_is_matched_to_a_customer_of_its_client_only(api, tenant, other_tenant, operator):
    from tests.factories import CustomerFactory

    foreign = CustomerFactory(tenant=other_tenant, phone="+77015550000")
    contact = contact_in(tenant)

    by_id = api(operator).post(f"/api/v1/contacts/{contact.pk}/customer/", {"customer": foreign.pk})
    by_phone = api(operator).post(
        f"/api/v1/contacts/{contact.pk}/customer/", {"phone": "+77015550000"}
    )

    assert by_id.status_code == 400
    assert by_phone.status_code == 404
    contact.refresh_from_db()
    assert contact.customer is None


def test_only_a_supervisor_reassigns(api, tenant, operator, manager):
    contact = contact_in(tenant)

    refused = api(operator).post(
        f"/api/v1/contacts/{contact.pk}/assign/", {"operator": operator.pk}, format="json"
    )
    done = api(manager).post(
        f"/api/v1/contacts/{contact.pk}/assign/", {"operator": operator.pk}, format="json"
    )

    assert refused.status_code == 403
    assert done.status_code == 200
    assert done.json()["assigned_to"] == operator.pk


def test_presence_is_set_and_read(api, operator):
    response = api(operator).put(
        "/api/v1/contacts/presence/",
        {"presence": "available", "languages": ["ru", "kk"]},
        format="json",
    )

    assert response.json() == {"presence": "available", "languages": ["ru", "kk"]}
    assert api(operator).get("/api/v1/contacts/presence/").json()["presence"] == "available"


def test_the_contact_screen_shows_the_client_in_its_colour_and_escapes_html(
    client, tenant, other_tenant, operator
):
    tenant.brand_color = "#aa0011"
    tenant.save(update_fields=["brand_color"])
    contact = contact_in(tenant, body="<script>alert(1)</script>")
    client.force_login(operator)

    page = client.get(f"/contacts/{contact.pk}/").content.decode()

    assert 'style="background: #aa0011"' in page
    assert "Almaty Telecom" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


def test_the_operator_replies_and_takes_next_from_the_pages(client, tenant, operator):
    contact = contact_in(tenant, channel="sms", sender="+77011234567")
    client.force_login(operator)

    taken = client.post("/contacts/", {"action": "take"})
    client.post(f"/contacts/{contact.pk}/", {"action": "reply", "body": "Hello"})

    assert taken.url == f"/contacts/{contact.pk}/"
    assert Notification.objects.filter(kind="contact_reply").count() == 1


def test_pages_refuse_other_clients_and_other_roles(client, tenant, other_tenant, technician):
    contact = contact_in(tenant)
    stranger = operator_of(other_tenant, username="beta-op")

    client.force_login(stranger)
    assert client.get(f"/contacts/{contact.pk}/").status_code == 404
    assert contact.number not in client.get("/contacts/").content.decode()
    client.force_login(technician.user)
    assert client.get("/contacts/").status_code == 403


def test_the_supervisor_sees_each_clients_queue_and_reassigns(client, tenant, manager, operator):
    contact = contact_in(tenant)
    client.force_login(manager)

    page = client.get("/contacts/supervisor/").content.decode()
    client.post("/contacts/supervisor/", {"contact": contact.pk, "operator": operator.pk})

    assert contact.number in page
    contact.refresh_from_db()
    assert contact.assigned_to == operator


def test_a_contacts_times_are_shown_in_its_clients_time_zone(client, api, tenant, other_tenant):
    """An operator answering for a client in another zone reads its deadlines in that zone:
    the queue's rows, their live updates and the API carry it."""
    other_tenant.time_zone = "Europe/Moscow"
    other_tenant.save(update_fields=["time_zone"])
    operator = operator_of(tenant, username="both-op", clients=[other_tenant])
    contact = contact_in(other_tenant)
    due = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 10:00 in Moscow, 12:00 in Almaty
    Contact.objects.filter(pk=contact.pk).update(sla_due=due)

    client.force_login(operator)
    page = client.get("/contacts/").content.decode()

    assert "10:00" in page and "12:00" not in page
    row = next(r for r in api(operator).get("/api/v1/contacts/").json() if r["id"] == contact.pk)
    assert row["time_zone"] == "Europe/Moscow"
