"""Each KPI on a small hand-built day whose expected value is worked out in the test."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from reports import selectors, services
from reports.selectors import Cause, KpiFilter
from requests_app.models import ServiceRequest
from requests_app.states import Status
from surveys.models import FollowUpCase, Response
from technicians.models import Absence, Shift, Team, Technician, Visit
from tests.factories import TechnicianFactory, UserFactory
from tests.reports.conftest import DAY, at, change, make_request, make_visit

pytestmark = pytest.mark.django_db
EMERGENCY = ServiceRequest.Kind.EMERGENCY


@pytest.fixture
def tech(tenant):
    return TechnicianFactory(tenant=tenant, territory="north", on_shift=False)


@pytest.fixture
def tech2(tenant):
    return TechnicianFactory(tenant=tenant, territory="south", on_shift=False)


def _window(tenant, tech, start_hour, arrived):
    request = make_request(tenant, window=(at(start_hour), at(start_hour + 2)))
    make_visit(request, tech, start=at(start_hour), arrived_at=arrived)
    return request


def test_on_time_arrival_counts_arrivals_inside_the_window(tenant, tech, day_filter):
    _window(tenant, tech, 9, at(9, 30))  # inside
    _window(tenant, tech, 11, at(10, 50))  # early: not on time, but the window is kept
    _window(tenant, tech, 13, at(15, 10))  # late
    make_request(tenant, window=(at(16), at(18)))  # nobody arrived: not in on-time's n

    rate = selectors.kpi_rate(key="on_time_arrival", f=day_filter, tenant=tenant)
    kept = selectors.kpi_rate(key="windows_kept", f=day_filter, tenant=tenant)

    assert (rate.hits, rate.total, rate.percent) == (1, 3, 33.3)
    assert (kept.hits, kept.total, kept.percent) == (2, 4, 50.0)


def test_a_window_cancelled_before_it_ended_is_no_promise_to_judge(tenant, tech, day_filter):
    cancelled = make_request(tenant, window=(at(9), at(11)), status=Status.CANCELLED)
    change(cancelled, Status.CANCELLED, when=at(8), from_status=Status.ASSIGNED)
    _window(tenant, tech, 12, at(12, 5))

    kept = selectors.kpi_rate(key="windows_kept", f=day_filter, tenant=tenant)

    assert (kept.hits, kept.total) == (1, 1)


def test_promise_misses_are_split_by_the_cause_read_from_the_rows(tenant, tech, tech2, day_filter):
    dispatcher = UserFactory(tenant=tenant, role=Role.DISPATCHER)
    # 1. Nobody was ever sent.
    make_request(tenant, window=(at(9), at(11)))
    # 2. The technician was absent during the window.
    absent = make_request(tenant, window=(at(9), at(11)))
    make_visit(absent, tech, start=at(9))
    Absence.objects.create(tenant=tenant, technician=tech, start=at(8), end=at(10))
    # 3. An emergency was put into tech2's route just before the window.
    broken_in = make_request(tenant, window=(at(14), at(16)))
    make_visit(broken_in, tech2, start=at(15), arrived_at=at(16, 30))
    emergency = make_request(tenant, kind=EMERGENCY, created=at(13))
    make_visit(emergency, tech2, start=at(13, 30), arrived_at=at(13, 40))
    # 4. A dispatcher moved it to another technician inside the window.
    moved = make_request(tenant, window=(at(17), at(19)))
    change(moved, Status.ASSIGNED, when=at(17, 30), from_status=Status.ACCEPTED, actor=dispatcher)
    make_visit(moved, tech, start=at(18, 30), arrived_at=at(19, 20))
    # 5. tech2's previous job ran an hour over, the next arrival was late.
    before = make_request(tenant, created=at(6))
    make_visit(before, tech2, start=at(8), finished_at=at(10), arrived_at=at(8))
    overran = make_request(tenant, window=(at(9), at(11)))
    make_visit(overran, tech2, start=at(9, 30), travel_minutes=20, arrived_at=at(11, 20))
    # 6. Nothing else explains it: the drive.
    drive = make_request(tenant, window=(at(20), at(22)))
    make_visit(drive, tech2, start=at(20, 30), arrived_at=at(22, 15))

    causes = selectors.promise_misses_by_cause(f=day_filter, tenant=tenant)

    assert causes == {
        Cause.NOT_ASSIGNED: 1,
        Cause.TECHNICIAN_ABSENT: 1,
        Cause.EMERGENCY_BREAK_IN: 1,
        Cause.DISPATCHER_CHANGE: 1,
        Cause.CUSTOMER_RESCHEDULED: 0,
        Cause.PREVIOUS_JOB_OVERRAN: 1,
        Cause.TRAVEL: 1,
    }
    drilled = selectors.kpi_requests(
        key="promise_misses", f=day_filter, tenant=tenant, part=Cause.TRAVEL
    )
    assert list(drilled) == [drive]


def test_emergency_response_is_measured_against_its_deadline(tenant, tech, day_filter):
    # SLA 60 min from creation unless response_due says otherwise.
    fast = make_request(tenant, kind=EMERGENCY, created=at(10))
    change(fast, Status.ASSIGNED, when=at(10, 5), from_status=Status.NEW)
    make_visit(fast, tech, start=at(10, 10), arrived_at=at(10, 50))
    slow = make_request(tenant, kind=EMERGENCY, created=at(12))
    change(slow, Status.ASSIGNED, when=at(12, 30), from_status=Status.NEW)
    make_visit(slow, tech, start=at(12, 40), arrived_at=at(13, 30))
    agreed = make_request(tenant, kind=EMERGENCY, created=at(14), response_due=at(16))
    change(agreed, Status.ASSIGNED, when=at(15), from_status=Status.NEW)

    assigned = selectors.kpi_rate(key="emergency_assigned_in_sla", f=day_filter, tenant=tenant)
    on_site = selectors.kpi_rate(key="emergency_on_site_in_sla", f=day_filter, tenant=tenant)

    assert (assigned.hits, assigned.total) == (3, 3)
    assert (on_site.hits, on_site.total) == (1, 3)  # slow arrived at 90 min, agreed not yet


def test_time_to_restore_is_the_median_from_report_to_completion(tenant, day_filter):
    for hours in (1, 3, 6):
        request = make_request(tenant, kind=EMERGENCY, created=at(8), status=Status.COMPLETED)
        change(request, Status.COMPLETED, when=at(8 + hours), from_status=Status.ON_SITE)

    restore = selectors.time_to_restore(f=day_filter, tenant=tenant)

    assert (restore.n, restore.median_hours, restore.within_sla) == (3, 3.0, 2)  # SLA 4 h


def test_first_time_fix_needs_one_arrival_and_no_reopening(tenant, tech, day_filter):
    once = make_request(tenant, status=Status.COMPLETED)
    make_visit(once, tech, start=at(9), arrived_at=at(9))
    change(once, Status.COMPLETED, when=at(10), from_status=Status.ON_SITE)
    twice = make_request(tenant, status=Status.COMPLETED)
    make_visit(twice, tech, start=at(11), arrived_at=at(11), status=Visit.Status.NOT_COMPLETED)
    make_visit(twice, tech, start=at(13), arrived_at=at(13), status=Visit.Status.COMPLETED)
    change(twice, Status.COMPLETED, when=at(14), from_status=Status.ON_SITE)

    rate = selectors.kpi_rate(key="first_time_fix", f=day_filter, tenant=tenant)

    assert (rate.hits, rate.total) == (1, 2)


def test_unproductive_visits_are_counted_by_reason(tenant, tech, day_filter):
    for reason, status in (
        ("customer_absent", Visit.Status.NOT_COMPLETED),
        ("customer_absent", Visit.Status.NOT_COMPLETED),
        ("parts_missing", Visit.Status.NOT_COMPLETED),
        ("", Visit.Status.COMPLETED),
    ):
        request = make_request(tenant)
        make_visit(request, tech, start=at(9), status=status, reason=reason, finished_at=at(10))
        Visit.objects.filter(request=request).update(
            planned_start=at(9)
            + timedelta(minutes=Visit.objects.filter(technician=tech).count() * 90),
            planned_end=at(23),
        )

    rate = selectors.kpi_rate(key="unproductive_visits", f=day_filter, tenant=tenant)

    assert (rate.hits, rate.total) == (3, 4)
    assert selectors.unproductive_visits_by_reason(f=day_filter) == {
        "customer_absent": 2,
        "parts_missing": 1,
    }


def test_a_repeat_request_has_the_same_customer_within_30_days(tenant, customer, day_filter):
    make_request(tenant, customer=customer, created=at(9) - timedelta(days=20))
    make_request(tenant, customer=customer, created=at(9))  # repeat of the one 20 days ago
    make_request(tenant, created=at(10))  # another customer, first time

    rate = selectors.kpi_rate(key="repeat_requests", f=day_filter, tenant=tenant)

    assert (rate.hits, rate.total) == (1, 2)


def test_csat_and_nps_come_with_their_n(tenant, day_filter):
    for csat, nps in ((5, 10), (4, 9), (2, 3), (None, 7)):
        Response.objects.create(
            tenant=tenant, channel="link", csat=csat, nps=nps, submitted_at=at(12)
        )

    mood = selectors.satisfaction(f=day_filter)

    # CSAT (5+4+2)/3; satisfied 2 of 3; NPS (2 promoters − 1 detractor) / 4 answers.
    assert (mood.csat_n, mood.csat_average, mood.csat_satisfied_percent) == (3, 3.67, 66.7)
    assert (mood.nps_n, mood.nps) == (4, 25.0)


def test_utilization_travel_share_and_jobs_per_technician_day(tenant, tech, tech2, day_filter):
    for who in (tech, tech2):  # two 9-hour shifts with an hour of lunch: 960 minutes
        Shift.objects.create(
            tenant=tenant, technician=who, date=DAY, start=at(9), end=at(18), lunch_minutes=60
        )
    one, two = make_request(tenant), make_request(tenant)
    make_visit(
        one,
        tech,
        start=at(10),
        status=Visit.Status.COMPLETED,
        en_route_at=at(9, 30),
        arrived_at=at(10),
        finished_at=at(12),
    )
    make_visit(
        two,
        tech2,
        start=at(10),
        status=Visit.Status.COMPLETED,
        en_route_at=at(9),
        arrived_at=at(10),
        finished_at=at(11),
    )

    load = selectors.workload(f=day_filter)

    # work 120 + 60 = 180 of 960 min; travel 30 + 60 = 90 of 960; 2 jobs in 2 technician-days.
    assert (load.utilization_percent, load.travel_share_percent) == (18.8, 9.4)
    assert load.jobs_per_technician_day == 1.0


def test_backlog_is_what_is_open_now_and_how_long_it_waited(tenant, day_filter):
    now = timezone.now()
    for hours, status in (
        (2, Status.NEW),
        (30, Status.ASSIGNED),
        (200, Status.NEW),
        (5, Status.COMPLETED),
    ):
        make_request(tenant, created=now - timedelta(hours=hours), status=status)

    stock = selectors.backlog(f=day_filter, now=now)

    assert (stock.open, stock.median_age_hours) == (3, 30.0)
    assert stock.by_age == {"lt_1d": 1, "1_3d": 1, "3_7d": 0, "gt_7d": 1}


def test_requests_are_counted_by_channel(tenant, day_filter):
    for channel in ("phone", "phone", "web"):
        make_request(tenant, channel=channel, created=at(11))
    make_request(tenant, channel="sms", created=at(11) - timedelta(days=1))  # the day before

    assert selectors.requests_by_channel(f=day_filter) == {"phone": 2, "web": 1}


def test_complaints_are_follow_up_cases_opened_in_the_period(tenant, day_filter):
    for status in (FollowUpCase.Status.OPEN, FollowUpCase.Status.OPEN):
        request = make_request(tenant)
        response = Response.objects.create(
            tenant=tenant, channel="link", request=request, csat=1, submitted_at=at(12)
        )
        case = FollowUpCase.objects.create(
            tenant=tenant,
            response=response,
            request=request,
            reason="csat 1",
            due_at=at(23),
            status=status,
        )
        FollowUpCase.objects.filter(pk=case.pk).update(created_at=at(12))
    done = make_request(tenant, status=Status.COMPLETED)
    change(done, Status.COMPLETED, when=at(13), from_status=Status.ON_SITE)

    found = selectors.complaints(f=day_filter, tenant=tenant)

    assert (found.opened, found.still_open) == (2, 2)
    assert found.per_1000_completed == 2000.0  # 2 complaints for 1 completed request


def test_filters_narrow_by_territory_technician_category_and_channel(tenant, tech, tech2):
    _window(tenant, tech, 9, at(9, 30))
    _window(tenant, tech2, 11, at(14))
    base = KpiFilter.for_days(tenant=tenant, first=DAY, last=DAY)
    north = KpiFilter.for_days(tenant=tenant, first=DAY, last=DAY, territory="north")
    tech2_only = KpiFilter.for_days(tenant=tenant, first=DAY, last=DAY, technician_id=tech2.pk)
    other = KpiFilter.for_days(tenant=tenant, first=DAY, last=DAY, category="installation")

    kept = lambda f: selectors.kpi_rate(key="windows_kept", f=f, tenant=tenant)  # noqa: E731

    assert (kept(base).hits, kept(base).total) == (1, 2)
    assert (kept(north).hits, kept(north).total) == (1, 1)
    assert (kept(tech2_only).hits, kept(tech2_only).total) == (0, 1)
    assert kept(other).total == 0


def test_the_previous_period_is_as_long_and_ends_where_this_one_starts(tenant):
    week = KpiFilter.for_days(tenant=tenant, first=DAY, last=DAY + timedelta(days=6))

    before = week.previous()

    assert before.end == week.start and before.end - before.start == timedelta(days=7)


def test_the_trend_is_per_day_of_the_tenants_calendar(tenant, tech):
    _window(tenant, tech, 9, at(9, 30))
    next_day = DAY + timedelta(days=1)  # a window from 01:00 local: the next day, not UTC's
    late = make_request(tenant, window=(at(1, day=next_day), at(3, day=next_day)))
    make_visit(late, tech, start=at(1, day=next_day), arrived_at=at(3, 30, day=next_day))
    week = KpiFilter.for_days(tenant=tenant, first=DAY, last=DAY + timedelta(days=6))

    trend = selectors.kpi_rate_trend(key="windows_kept", f=week, tenant=tenant, bucket="day")

    assert [(row["period"].date(), row["hits"], row["total"]) for row in trend] == [
        (DAY, 1, 1),
        (DAY + timedelta(days=1), 0, 1),
    ]


def test_the_summary_costs_the_same_number_of_queries_for_more_data(tenant, tech, day_filter):
    _window(tenant, tech, 9, at(9, 30))
    _window(tenant, tech, 12, at(15))  # one miss: its causes are read (at most 5 queries)
    with CaptureQueriesContext(connection) as small:
        selectors.kpi_summary(f=day_filter, tenant=tenant)
    for hour in (15, 17, 19):
        _window(tenant, tech, hour, at(hour + 3))
        make_request(tenant, window=(at(hour), at(hour + 1)))
    with CaptureQueriesContext(connection) as large:
        selectors.kpi_summary(f=day_filter, tenant=tenant)

    assert len(large) == len(small)


def test_a_team_narrows_every_figure_to_its_technicians(tenant, tech, tech2):
    crew = Team.objects.create(tenant=tenant, name="Crew A")
    Technician.objects.filter(pk=tech.pk).update(team=crew)
    _window(tenant, tech, 9, at(9, 30))
    _window(tenant, tech2, 11, at(14))
    Shift.objects.create(tenant=tenant, technician=tech, date=DAY, start=at(8), end=at(17))
    Shift.objects.create(tenant=tenant, technician=tech2, date=DAY, start=at(8), end=at(17))
    team = KpiFilter.for_days(tenant=tenant, first=DAY, last=DAY, team_id=crew.pk)

    kept = selectors.kpi_rate(key="windows_kept", f=team, tenant=tenant)
    misses = selectors.promise_misses_by_cause(f=team, tenant=tenant)

    assert (kept.hits, kept.total) == (1, 1)
    assert sum(misses.values()) == 0  # tech2's late arrival is another team's
    assert selectors.workload(f=team).technician_days == 1


def test_a_year_of_summary_read_from_the_roll_up_costs_the_queries_of_a_day(tenant, tech):
    _window(tenant, tech, 9, at(9, 30))
    _window(tenant, tech, 12, at(15))
    year = KpiFilter.for_days(tenant=tenant, first=DAY - timedelta(days=364), last=DAY)
    services.daily_kpis_refresh_days(tenant=tenant, first=year.previous().start.date(), last=DAY)
    with CaptureQueriesContext(connection) as small:
        selectors.kpi_summary(f=year, tenant=tenant)
    for back in range(1, 60):  # two more months of windows, rolled up too
        day = DAY - timedelta(days=back)
        request = make_request(tenant, window=(at(9, day=day), at(11, day=day)))
        make_visit(request, tech, start=at(9, day=day), arrived_at=at(9, 30, day=day))
    services.daily_kpis_refresh_days(tenant=tenant, first=DAY - timedelta(days=60), last=DAY)
    with CaptureQueriesContext(connection) as large:
        summary = selectors.kpi_summary(f=year, tenant=tenant)

    assert len(large) == len(small)
    assert summary["rates"]["windows_kept"]["total"] == 61
