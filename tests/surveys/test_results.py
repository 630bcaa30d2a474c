"""Results by technician, operator, service point, region and channel, with response rates:
one selector (the KPI reports build on it), the same number of queries for any volume."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from surveys import services
from surveys.models import Response, ServicePoint
from surveys.selectors import survey_response_rates, survey_results
from tests.factories import TechnicianFactory, UserFactory
from tests.surveys.conftest import BAD, GOOD, completed_visit, link_token

pytestmark = pytest.mark.django_db
URL = "/api/v1/surveys/results/"


def by_link(tenant, raw, **visit):
    invitation = services.invitation_after_visit(visit_id=completed_visit(tenant, **visit).pk)
    return services.response_by_link(token=link_token(invitation), raw=raw)


@pytest.fixture
def answered(tenant, rules, no_delivery, operator):
    rules.rest_days = 0
    rules.save()
    north = TechnicianFactory(
        tenant=tenant, territory="North", user__first_name="Dana", user__last_name="K"
    )
    south = TechnicianFactory(
        tenant=tenant, territory="South", user__first_name="Arman", user__last_name="S"
    )
    by_link(tenant, GOOD, technician=north, created_by=operator)
    by_link(tenant, BAD, technician=north)
    by_link(tenant, GOOD, technician=south)
    point = ServicePoint.objects.create(
        tenant=tenant, code="p1", name="Abay office", region="Centre"
    )
    Response.objects.create(
        tenant=tenant, channel="kiosk", service_point=point, csat=4, submitted_at=timezone.now()
    )
    return north, south


def period():
    now = timezone.now()
    return now - timedelta(days=1), now + timedelta(days=1)


def test_results_by_technician_average_and_count_low_scores(tenant, answered):
    start, end = period()
    rows = {
        row.label: row
        for row in survey_results(tenant_id=tenant.pk, start=start, end=end, group_by="technician")
    }
    dana = rows["Dana K"]
    assert (dana.responses, dana.csat_average, dana.low_scores, dana.solved_percent) == (
        2,
        3.0,
        1,
        50.0,
    )
    assert dana.nps == 0.0  # one promoter (10), one detractor (3)
    assert rows["Arman S"].csat_average == 5.0


def test_results_by_region_read_the_technicians_territory_or_the_service_points_region(
    tenant, answered
):
    start, end = period()
    rows = {
        row.label: row.responses
        for row in survey_results(tenant_id=tenant.pk, start=start, end=end, group_by="region")
    }
    assert rows == {"North": 2, "South": 1, "Centre": 1}


def test_results_by_operator_and_channel(tenant, answered, operator):
    start, end = period()
    operators = survey_results(tenant_id=tenant.pk, start=start, end=end, group_by="operator")
    assert {row.key: row.responses for row in operators}[operator.pk] == 1
    channels = {
        row.key: row.responses for row in survey_results(tenant_id=tenant.pk, start=start, end=end)
    }
    assert channels == {"link": 3, "kiosk": 1}


def test_response_rates_by_channel(tenant, answered, no_delivery):
    services.invitation_after_visit(visit_id=completed_visit(tenant).pk)  # sent, not answered
    start, end = period()
    rates = {
        rate.channel: rate
        for rate in survey_response_rates(tenant_id=tenant.pk, start=start, end=end)
    }
    assert (rates["link"].asked, rates["link"].answered, rates["link"].rate_percent) == (4, 3, 75.0)
    assert rates["kiosk"].answered == 1 and rates["kiosk"].asked is None


def test_the_results_api_takes_the_same_queries_for_any_volume(tenant, answered, manager, api):
    client = api(manager)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL, {"group_by": "technician", "bucket": "day"}).status_code == 200
    for _ in range(6):
        by_link(tenant, GOOD, technician=answered[1])
    with CaptureQueriesContext(connection) as more:
        body = client.get(URL, {"group_by": "technician", "bucket": "day"}).json()
    assert len(more) == len(few)
    assert sum(row["responses"] for row in body["results"]) == 10  # 3 + 1 kiosk + 6


def test_a_manager_of_another_tenant_sees_none_of_these_results(
    tenant, other_tenant, answered, api
):
    stranger = UserFactory(username="beta-manager", tenant=other_tenant, role=Role.MANAGER)
    body = api(stranger).get(URL, {"group_by": "channel"}).json()
    assert body["results"] == []
    assert all(rate["answered"] == 0 for rate in body["rates"])


@pytest.mark.parametrize(
    "query",
    [
        {"group_by": "planet"},
        {"start": "2025-02-30"},
        {"start": "2025-03-02", "end": "2025-03-01"},
        {"start": "0001-01-01", "end": "9999-12-31"},
    ],
)
def test_bad_result_queries_are_400(manager, api, query):
    assert api(manager).get(URL, query).status_code == 400


def test_the_managers_results_page_shows_the_table_and_the_rates(answered, manager, client):
    client.force_login(manager)
    page = client.get("/surveys/?group_by=technician")
    assert page.status_code == 200
    assert "Dana K" in page.content.decode() and 'data-testid="rates"' in page.content.decode()
