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
