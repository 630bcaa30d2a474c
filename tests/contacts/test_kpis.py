"""The contact center's work measured: each figure from known contacts, in the API and on the
reports' contact-center view, for the user's client only."""

from datetime import UTC, datetime, timedelta

import pytest

from contacts.kpi_selectors import contact_kpis
from contacts.models import Contact
from tests.contacts.helpers import contact_in
from tests.factories import CustomerFactory, RequestFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def at(contact, **times):
    Contact.objects.filter(pk=contact.pk).update(**times)


@pytest.fixture
def period(tenant, operator):
    customer = CustomerFactory(tenant=tenant)
    fast = contact_in(tenant, channel="chat", customer=customer)
    at(
        fast,
        created_at=T0,
        sla_due=T0 + timedelta(minutes=2),
        first_response_at=T0 + timedelta(minutes=1),
        taken_at=T0,
        done_at=T0 + timedelta(minutes=10),
        status="done",
        assigned_to=operator,
        request=RequestFactory(tenant=tenant, customer=customer),
    )
    late = contact_in(tenant, channel="email", customer=customer)
    at(
        late,
        created_at=T0 + timedelta(hours=1),
        sla_due=T0 + timedelta(hours=1, minutes=60),
        first_response_at=T0 + timedelta(hours=3),
    )
    waiting = contact_in(tenant, channel="sms", sender="+77010000001")
    at(waiting, created_at=T0 + timedelta(hours=2), sla_due=T0 + timedelta(hours=3))
    return T0 - timedelta(hours=1), T0 + timedelta(days=1)


def test_each_figure_follows_its_definition(tenant, period):
    start, end = period

    figures = contact_kpis(tenant_id=tenant.pk, start=start, end=end)

    assert figures["contacts"] == 3
    assert figures["first_response_minutes"] == {"n": 2, "p50": 1.0, "p90": 120.0}
    assert figures["handling_minutes"] == {"n": 1, "average": 10.0}
    assert figures["sla_met_by_channel"]["chat"] == {"n": 1, "met": 1, "rate": 1.0}
    assert figures["sla_met_by_channel"]["email"] == {"n": 1, "met": 0, "rate": 0.0}
    assert figures["sla_met_by_channel"]["sms"]["met"] == 0  # its deadline has passed
    assert figures["became_requests"] == {"n": 3, "requests": 1, "rate": 0.333}
    assert figures["repeat_contacts"]["repeats"] == 1  # the same customer within 7 days
    assert figures["backlog"]["open"] == 2


def test_the_api_serves_a_managers_own_client_only(api, tenant, other_tenant, manager, period):
    start, _end = period
    query = f"?start={start.date()}&end={start.date() + timedelta(days=1)}"

    mine = api(manager).get(f"/api/v1/kpis/contacts/{query}")
    foreign = api(manager).get(f"/api/v1/kpis/contacts/{query}&tenant={other_tenant.pk}")

    assert mine.status_code == 200 and mine.json()["contacts"] == 3
    assert foreign.status_code == 404


def test_the_reports_have_a_contact_center_view(client, tenant, manager, operator, period):
    start, _end = period
    client.force_login(manager)

    page = client.get(f"/reports/contacts/?start={start.date()}&end={start.date()}")
    client.force_login(operator)
    refused = client.get("/reports/contacts/")

    assert page.status_code == 200
    assert "Contacts that became requests" in page.content.decode()
    assert refused.status_code == 403
