"""The operator console at the HTTP interface: which client a call is for, and who may serve it."""

import pytest

from accounts.models import ContactPoint
from tests.factories import CustomerFactory, TenantFactory

pytestmark = pytest.mark.django_db


def test_the_number_dialled_decides_the_client(client, operator, tenant):
    beta = TenantFactory(name="Beta Networks")
    operator.clients.add(beta)
    ContactPoint.objects.create(tenant=beta, kind="phone", address="+77272000002")
    client.force_login(operator)

    page = client.get("/console/", {"dialled": "8 727 200 00 02"}).content.decode()

    assert "Call for <b>Beta Networks</b>" in page


def test_an_operator_cannot_take_calls_for_a_client_they_do_not_serve(client, operator):
    stranger = TenantFactory(name="Gamma")
    ContactPoint.objects.create(tenant=stranger, kind="phone", address="+77272000003")
    CustomerFactory(tenant=stranger, phone="+77010000001")
    client.force_login(operator)

    response = client.get("/console/", {"dialled": "+77272000003", "phone": "+77010000001"})

    assert response.status_code == 403


def test_a_typed_tenant_outside_the_operators_clients_is_ignored(client, operator):
    stranger = TenantFactory(slug="gamma")
    CustomerFactory(tenant=stranger, phone="+77010000001", name="Secret Person")
    client.force_login(operator)

    page = client.get("/console/", {"tenant": "gamma", "phone": "+77010000001"}).content.decode()

    assert "Secret Person" not in page


def test_an_unknown_dialled_number_is_said_plainly(client, operator):
    client.force_login(operator)

    page = client.get("/console/", {"dialled": "+70000000000"}).content.decode()

    assert "No client is known for the number" in page


def test_an_emergency_with_a_made_up_category_becomes_an_outage(client, operator, customer):
    from requests_app.models import ServiceRequest

    client.force_login(operator)
    client.post(
        "/console/",
        {
            "tenant": operator.tenant.slug,
            "phone": customer.phone,
            "action": "emergency",
            "category": "x",
        },
    )

    assert ServiceRequest.objects.get().category == "outage"


@pytest.mark.parametrize("typed", ["abc", "123", "+7 701 12", "1" * 16, "+7 701 ABC 45 67"])
def test_a_typed_number_that_is_no_phone_number_is_said_plainly(client, operator, tenant, typed):
    client.force_login(operator)

    page = client.get("/console/", {"tenant": tenant.slug, "phone": typed}).content.decode()

    assert "Enter a phone number" in page
    assert 'data-testid="new-customer"' not in page


@pytest.mark.parametrize("typed", ["8 (701) 123-45-67", "+7 701 123 45 67", "87011234567"])
def test_a_local_or_international_number_finds_the_same_caller(client, operator, tenant, typed):
    customer = CustomerFactory(tenant=tenant, phone="+77011234567")
    client.force_login(operator)

    page = client.get("/console/", {"tenant": tenant.slug, "phone": typed}).content.decode()

    assert "Enter a phone number" not in page
    assert customer.name in page


def test_what_this_call_created_does_not_make_it_a_repeat_contact(client, operator, customer):
    client.force_login(operator)
    first = client.get("/console/", {"tenant": operator.tenant.slug, "phone": customer.phone})
    call = first.context["call"]

    response = client.post(
        "/console/",
        {
            "tenant": operator.tenant.slug,
            "phone": customer.phone,
            "call": call,
            "action": "emergency",
            "category": "outage",
        },
        follow=True,
    )

    page = response.content.decode()
    assert "SR-" in page  # the new request is on the card
    assert 'data-testid="repeat"' not in page
    later = client.get("/console/", {"tenant": operator.tenant.slug, "phone": customer.phone})
    assert 'data-testid="repeat"' in later.content.decode()  # the next call is a repeat


def test_looking_the_caller_up_again_stays_the_same_call(client, operator, customer):
    client.force_login(operator)
    slug = operator.tenant.slug
    call = client.get("/console/", {"tenant": slug, "phone": customer.phone}).context["call"]
    client.post(
        "/console/",
        {"tenant": slug, "phone": customer.phone, "call": call, "action": "emergency"},
    )

    again = client.get(
        "/console/",
        {"tenant": slug, "phone": customer.phone, "call": call, "call_phone": customer.phone},
    )
    earlier = call - 600  # a call that began ten minutes ago
    same = client.get(
        "/console/",
        {"tenant": slug, "phone": customer.phone, "call": earlier, "call_phone": customer.phone},
    )
    other = client.get(
        "/console/",
        {"tenant": slug, "phone": "+77019998877", "call": earlier, "call_phone": customer.phone},
    )

    assert 'data-testid="repeat"' not in again.content.decode()
    assert same.context["call"] == earlier
    assert other.context["call"] >= call  # another number: another call, from now
