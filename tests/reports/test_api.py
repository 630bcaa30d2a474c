"""The KPI API, the report pages and the exports: figures, scoping by tenant and role."""

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from reports import services
from technicians.models import Team, Technician
from tests.factories import TechnicianFactory, UserFactory
from tests.reports.conftest import DAY, at, make_request, make_visit

pytestmark = pytest.mark.django_db
PERIOD = f"start={DAY}&end={DAY}"


@pytest.fixture
def day_of_windows(tenant):
    """Two windows kept and one missed by travel, on DAY."""
    tech = TechnicianFactory(tenant=tenant, territory="north", on_shift=False)
    made = []
    for hour, arrived in ((9, at(9, 30)), (11, at(12)), (14, at(17))):
        request = make_request(tenant, window=(at(hour), at(hour + 2)))
        make_visit(request, tech, start=at(hour), arrived_at=arrived)
        made.append(request)
    return made


@pytest.fixture
def other_tenants_day(other_tenant):
    tech = TechnicianFactory(tenant=other_tenant, on_shift=False)
    request = make_request(other_tenant, window=(at(9), at(11)))
    make_visit(request, tech, start=at(9), arrived_at=at(13))
    return request


def _browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_manager_reads_the_periods_figures_against_the_previous_period(
    api, manager, day_of_windows, other_tenants_day
):
    response = api(manager).get(f"/api/v1/kpis/summary/?{PERIOD}")

    assert response.status_code == 200
    kept = response.json()["rates"]["windows_kept"]
    # Two of three kept today (the other tenant's late arrival is not counted); none the day before.
    assert (kept["hits"], kept["total"], kept["percent"]) == (2, 3, 66.7)
    assert kept["previous_percent"] is None and kept["change"] is None
    assert response.json()["promise_misses_by_cause"]["travel"] == 1


def test_the_drill_down_lists_the_requests_behind_a_number(api, manager, day_of_windows):
    response = api(manager).get(f"/api/v1/kpis/requests/?{PERIOD}&kpi=windows_kept&part=misses")

    assert response.status_code == 200
    assert [row["number"] for row in response.json()["results"]] == [day_of_windows[2].number]


def test_the_drill_down_costs_the_same_queries_for_more_rows(api, manager, day_of_windows):
    url = f"/api/v1/kpis/requests/?{PERIOD}&kpi=windows_kept&part=all"
    client = api(manager)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for hour in (18, 19, 20):
        make_request(day_of_windows[0].tenant, window=(at(hour), at(hour + 1)))
    with CaptureQueriesContext(connection) as more:
        assert client.get(url).json()["count"] == 6

    assert len(more) == len(few)


def test_a_manager_of_one_client_never_sees_another_clients_figures(
    api, manager, other_tenant, other_tenants_day
):
    client = api(manager)

    named = client.get(f"/api/v1/kpis/summary/?{PERIOD}&tenant={other_tenant.pk}")
    own = client.get(f"/api/v1/kpis/summary/?{PERIOD}").json()
    drilled = client.get(f"/api/v1/kpis/requests/?{PERIOD}&kpi=windows_kept&part=all").json()

    assert named.status_code == 404
    assert own["rates"]["windows_kept"]["total"] == 0
    assert drilled["results"] == []


def test_an_admin_who_serves_several_clients_picks_one(
    api, tenant, other_tenant, other_tenants_day
):
    admin = UserFactory(tenant=tenant, role=Role.ADMIN)
    admin.clients.add(other_tenant)

    response = api(admin).get(f"/api/v1/kpis/summary/?{PERIOD}&tenant={other_tenant.pk}")

    assert response.status_code == 200
    assert response.json()["rates"]["windows_kept"]["total"] == 1


@pytest.mark.parametrize("member", ["dispatcher", "operator", "technician"])
def test_only_managers_and_admins_read_reports(api, member, request):
    user = request.getfixturevalue(member)
    user = getattr(user, "user", user)

    assert api(user).get("/api/v1/kpis/summary/").status_code == 403
    assert _browser(user).get("/reports/").status_code == 403
    assert _browser(user).get("/reports/export/csv/?kpi=backlog&part=all").status_code == 403


def test_the_trend_is_per_day_in_the_tenants_calendar(api, manager, day_of_windows):
    week = f"start={DAY}&end={DAY + timedelta(days=6)}"

    points = api(manager).get(f"/api/v1/kpis/trend/?{week}&kpi=windows_kept&bucket=day").json()

    assert [(p["period"][:10], p["hits"], p["total"]) for p in points] == [(str(DAY), 2, 3)]
    assert points[0]["period"].endswith("+05:00")


def test_a_period_that_ends_before_it_starts_is_refused(api, manager):
    response = api(manager).get(f"/api/v1/kpis/summary/?start={DAY}&end={DAY - timedelta(days=1)}")

    assert response.status_code == 400 and "start" in response.json()


def test_the_report_page_is_linked_for_managers_and_holds_the_filters(manager):
    page = _browser(manager).get("/reports/")

    assert page.status_code == 200
    assert b'href="/reports/"' in page.content and b'id="report-filters"' in page.content
    assert b"chart.umd.js" in page.content


def test_the_drill_down_page_lists_the_requests_in_the_tenants_time(manager, day_of_windows):
    page = _browser(manager).get(f"/reports/requests/?{PERIOD}&kpi=on_time_arrival&part=hits")

    assert page.status_code == 200
    assert day_of_windows[0].number.encode() in page.content
    assert day_of_windows[2].number.encode() not in page.content  # arrived at 17:00, after 16:00
    assert b"2026-11-02 09:00" in page.content  # the window in Almaty time


def test_the_csv_export_streams_the_requests_of_a_figure(
    manager, day_of_windows, other_tenants_day
):
    response = _browser(manager).get(f"/reports/export/csv/?{PERIOD}&kpi=windows_kept&part=all")

    assert response.status_code == 200 and response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "Number"
    assert sorted(row[0] for row in rows[1:]) == sorted(r.number for r in day_of_windows)


def test_the_xlsx_export_holds_the_same_rows(manager, day_of_windows):
    response = _browser(manager).get(f"/reports/export/xlsx/?{PERIOD}&kpi=windows_kept&part=misses")

    assert response.status_code == 200
    book = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert sheet.count("<row ") == 2  # the headings and the one miss
    assert day_of_windows[2].number in sheet and day_of_windows[0].number not in sheet


def test_an_export_names_no_other_clients_rows(manager, other_tenant, other_tenants_day):
    client = _browser(manager)

    foreign = client.get(f"/reports/export/csv/?{PERIOD}&kpi=windows_kept&tenant={other_tenant.pk}")
    own = client.get(f"/reports/export/csv/?{PERIOD}&kpi=windows_kept&part=all")

    assert foreign.status_code == 404
    assert b"".join(own.streaming_content).decode().strip().count("\n") == 0  # headings only


def test_the_figures_can_be_narrowed_to_a_team(api, manager, tenant, day_of_windows):
    crew = Team.objects.create(tenant=tenant, name="Crew A")
    empty = Team.objects.create(tenant=tenant, name="Crew B")
    Technician.objects.filter(tenant=tenant).update(team=crew)

    mine = api(manager).get(f"/api/v1/kpis/summary/?{PERIOD}&team={crew.pk}").json()
    none = api(manager).get(f"/api/v1/kpis/summary/?{PERIOD}&team={empty.pk}").json()

    assert mine["rates"]["windows_kept"]["total"] == 3
    assert none["rates"]["windows_kept"]["total"] == 0
    assert api(manager).get(f"/api/v1/kpis/summary/?{PERIOD}&team=x").status_code == 400


def test_the_report_page_offers_the_tenants_teams(manager, tenant, other_tenant):
    Team.objects.create(tenant=tenant, name="Crew A")
    Team.objects.create(tenant=other_tenant, name="Their crew")

    page = _browser(manager).get("/reports/").content.decode()

    assert 'name="team"' in page and "Crew A" in page and "Their crew" not in page


def test_the_drill_down_counts_what_the_figure_counts_read_from_the_roll_up(
    api, manager, tenant, day_of_windows
):
    services.daily_kpis_refresh(tenant=tenant, day=DAY)
    url = f"/api/v1/kpis/requests/?{PERIOD}&kpi=windows_kept&part="
    client = api(manager)

    with CaptureQueriesContext(connection) as queries:
        misses = client.get(url + "misses").json()
    counted = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]

    assert misses["count"] == 1 and len(misses["results"]) == 1
    assert counted == []  # the number came from the roll-up, not from counting the rows
    assert client.get(url + "hits").json()["count"] == 2
    assert client.get(url + "all").json()["count"] == 3
    by_cause = client.get(f"/api/v1/kpis/requests/?{PERIOD}&kpi=promise_misses&part=travel")
    assert by_cause.json()["count"] == 1 and len(by_cause.json()["results"]) == 1


def test_the_drill_down_page_shows_the_figures_count(manager, tenant, day_of_windows):
    services.daily_kpis_refresh(tenant=tenant, day=DAY)

    page = _browser(manager).get(f"/reports/requests/?{PERIOD}&kpi=windows_kept&part=hits")

    assert page.status_code == 200 and page.context["page"].paginator.count == 2
    assert len(page.context["page"].object_list) == 2


def test_the_trend_reads_the_roll_up_and_costs_the_same_queries_for_more_days(
    api, manager, tenant, day_of_windows
):
    week = f"start={DAY}&end={DAY + timedelta(days=6)}"
    url = f"/api/v1/kpis/trend/?{week}&kpi=windows_kept&bucket=day"
    client = api(manager)
    live = client.get(url).json()
    services.daily_kpis_refresh_days(tenant=tenant, first=DAY, last=DAY + timedelta(days=6))
    with CaptureQueriesContext(connection) as one_day:
        rolled = client.get(url).json()
    tech = TechnicianFactory(tenant=tenant, on_shift=False)
    for back in range(1, 6):  # more days of windows, rolled up too
        day = DAY + timedelta(days=back)
        request = make_request(tenant, window=(at(9, day=day), at(11, day=day)))
        make_visit(request, tech, start=at(9, day=day), arrived_at=at(9, 30, day=day))
    services.daily_kpis_refresh_days(tenant=tenant, first=DAY, last=DAY + timedelta(days=6))
    with CaptureQueriesContext(connection) as six_days:
        longer = client.get(url).json()

    assert rolled == live
    assert len(longer) == 6 and len(six_days) == len(one_day)
    assert longer[0]["period"].endswith("+05:00")
