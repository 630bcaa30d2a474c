"""The nightly roll-up: the same figures as the live rows, refreshed idempotently, today live."""

import io
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports import selectors, services, tasks
from reports.models import DailyKpi
from reports.selectors import KpiFilter
from reports.selectors import figures as figure_selectors
from reports.selectors import misses as miss_selectors
from reports.selectors import rates as rate_selectors
from requests_app.states import Status
from technicians.models import Absence, Shift, Visit
from tests.factories import TechnicianFactory
from tests.reports.conftest import DAY, at, change, make_request, make_visit

pytestmark = pytest.mark.django_db
WEEK = [DAY + timedelta(days=n) for n in range(7)]


@pytest.fixture
def week_of_windows(tenant):
    tech = TechnicianFactory(tenant=tenant, on_shift=False)
    for n, day in enumerate(WEEK):
        for hour in range(8, 8 + n + 1):  # n + 1 windows on the nth day, every other one late
            request = make_request(
                tenant,
                window=(at(hour, day=day), at(hour + 1, day=day)),
                channel="phone" if hour % 2 else "web",
            )
            late = (hour - 8) % 2
            arrived = at(hour + late, 30 if late else 10, day=day)
            make_visit(request, tech, start=at(hour, day=day), minutes=30, arrived_at=arrived)


def _rates(tenant, **narrowing):
    f = KpiFilter.for_days(tenant=tenant, first=WEEK[0], last=WEEK[-1], **narrowing)
    return {key: selectors.kpi_rate(key=key, f=f, tenant=tenant) for key in selectors.RATES}


def test_the_roll_up_gives_the_figures_the_live_rows_give(tenant, week_of_windows):
    live = _rates(tenant)
    live_phone = _rates(tenant, channel="phone")

    for day in WEEK:
        services.daily_kpis_refresh(tenant=tenant, day=day)
    with mock.patch.object(rate_selectors, "_live_counts", side_effect=AssertionError("live")):
        rolled = _rates(tenant)
        rolled_phone = _rates(tenant, channel="phone")

    assert rolled == live and rolled_phone == live_phone
    # 28 windows (1 + 2 + … + 7), 16 kept (the first of each day and every other one after).
    assert (live["windows_kept"].hits, live["windows_kept"].total) == (16, 28)


def test_refreshing_a_day_twice_changes_nothing(tenant, week_of_windows):
    services.daily_kpis_refresh(tenant=tenant, day=WEEK[3])
    first = list(DailyKpi.objects.order_by("kpi", "category", "channel").values("kpi", "hits"))

    services.daily_kpis_refresh(tenant=tenant, day=WEEK[3])

    again = list(DailyKpi.objects.order_by("kpi", "category", "channel").values("kpi", "hits"))
    assert again == first


def test_days_not_rolled_up_are_read_live(tenant, week_of_windows):
    live = _rates(tenant)
    for day in WEEK[:3]:  # the night job has not reached the rest
        services.daily_kpis_refresh(tenant=tenant, day=day)

    assert _rates(tenant) == live


def test_today_is_always_computed_live(tenant):
    tech = TechnicianFactory(tenant=tenant, on_shift=False)
    now = timezone.now()
    request = make_request(tenant, window=(now - timedelta(hours=2), now - timedelta(minutes=1)))
    make_visit(request, tech, start=now - timedelta(hours=2), arrived_at=now - timedelta(hours=1))
    today = timezone.localdate(timezone=tenant.zone)
    DailyKpi.objects.create(
        tenant=tenant, day=today, kpi=selectors.ROLLUP_MARK, category="", channel=""
    )  # a stale marker for today must not hide today's rows
    f = KpiFilter.for_days(tenant=tenant, first=today, last=today)

    kept = selectors.kpi_rate(key="windows_kept", f=f, tenant=tenant)

    assert (kept.hits, kept.total) == (1, 1)


def test_the_beat_task_rolls_up_the_last_days_of_every_tenant(tenant, other_tenant, settings):
    settings.KPI_ROLLUP_DAYS = 3

    tasks.refresh_daily_kpis.run()
    tasks.refresh_daily_kpis.run()

    marks = DailyKpi.objects.filter(kpi=selectors.ROLLUP_MARK)
    assert marks.count() == 6  # 3 days × 2 tenants, once each
    assert timezone.localdate(timezone=tenant.zone) not in set(marks.values_list("day", flat=True))


def test_a_year_of_roll_up_costs_as_many_queries_as_a_week(tenant, week_of_windows):
    for day in WEEK:
        services.daily_kpis_refresh(tenant=tenant, day=day)
    week = KpiFilter.for_days(tenant=tenant, first=WEEK[0], last=WEEK[-1])
    year = KpiFilter.for_days(tenant=tenant, first=WEEK[0], last=WEEK[0] + timedelta(days=364))

    with CaptureQueriesContext(connection) as short:
        selectors.kpi_rate(key="windows_kept", f=week, tenant=tenant)
    with CaptureQueriesContext(connection) as long:
        selectors.kpi_rate(key="windows_kept", f=year, tenant=tenant)

    assert len(long) <= len(short) + 1  # the days after the roll-up: one live query


@pytest.fixture
def mixed_day(tenant):
    """Misses of several causes, a failed visit, two channels and a shift, on DAY."""
    tech = TechnicianFactory(tenant=tenant, on_shift=False)
    other = TechnicianFactory(tenant=tenant, on_shift=False)
    make_request(tenant, window=(at(9), at(11)), channel="web")  # nobody was sent
    absent = make_request(tenant, window=(at(9), at(11)), channel="phone")
    make_visit(absent, tech, start=at(9))
    Absence.objects.create(tenant=tenant, technician=tech, start=at(8), end=at(10))
    drive = make_request(tenant, window=(at(20), at(22)), channel="phone", category="repair")
    make_visit(drive, other, start=at(20, 30), arrived_at=at(22, 15))
    failed = make_request(tenant, window=(at(12), at(14)), channel="web")
    make_visit(
        failed,
        other,
        start=at(12),
        en_route_at=at(11, 40),
        arrived_at=at(12, 10),
        finished_at=at(12, 55),
        status=Visit.Status.NOT_COMPLETED,
        reason=Visit.Reason.CUSTOMER_ABSENT,
    )
    done = make_request(tenant, window=(at(15), at(17)), status=Status.COMPLETED)
    make_visit(
        done,
        other,
        start=at(15),
        en_route_at=at(14, 45),
        arrived_at=at(15, 5),
        finished_at=at(16),
        status=Visit.Status.COMPLETED,
    )
    change(done, Status.COMPLETED, when=at(16), from_status=Status.ON_SITE)
    Shift.objects.create(
        tenant=tenant, technician=other, date=DAY, start=at(8), end=at(20), lunch_minutes=60
    )
    for created, done in ((at(10), at(12, 30)), (at(11), at(11, 40)), (at(13), at(19, 5))):
        outage = make_request(
            tenant, kind="emergency", created=created, channel="phone", status=Status.COMPLETED
        )
        change(outage, Status.COMPLETED, when=done, from_status=Status.ON_SITE)


def test_every_figure_of_the_summary_reads_the_same_from_the_roll_up(tenant, mixed_day):
    f = KpiFilter.for_days(tenant=tenant, first=DAY, last=DAY)
    live = selectors.kpi_summary(f=f, tenant=tenant)
    live_trend = selectors.kpi_rate_trend(key="windows_kept", f=f, tenant=tenant, bucket="day")

    # This day and the one before (the summary's previous period).
    services.daily_kpis_refresh_days(tenant=tenant, first=DAY - timedelta(days=1), last=DAY)
    with (
        mock.patch.object(rate_selectors, "_live_counts", side_effect=AssertionError("live")),
        mock.patch.object(miss_selectors, "promise_misses", side_effect=AssertionError("live")),
        mock.patch.object(figure_selectors, "restorations", side_effect=AssertionError("live")),
    ):
        rolled = selectors.kpi_summary(f=f, tenant=tenant)
        rolled_trend = selectors.kpi_rate_trend(
            key="windows_kept", f=f, tenant=tenant, bucket="day"
        )

    assert rolled == live and rolled_trend == live_trend
    assert live["promise_misses_by_cause"][selectors.Cause.NOT_ASSIGNED] == 1
    assert live["unproductive_by_reason"] == {Visit.Reason.CUSTOMER_ABSENT: 1}
    assert live["requests_by_channel"] == {"api": 1, "phone": 5, "web": 2}
    # 40 min, 2 h 30, 6 h 05: the median 2.5 h; two within the 4 h SLA.
    assert live["time_to_restore"] == {"n": 3, "median_hours": 2.5, "within_sla": 2}
    assert live["backlog"]["open"] == rolled["backlog"]["open"]
    assert live["workload"]["shift_minutes"] == 660 and live["workload"]["jobs_completed"] == 1


def test_a_month_rolls_up_in_as_many_queries_as_a_day(tenant, mixed_day):
    with CaptureQueriesContext(connection) as day:
        services.daily_kpis_refresh(tenant=tenant, day=DAY)
    with CaptureQueriesContext(connection) as month:
        services.daily_kpis_refresh_days(
            tenant=tenant, first=DAY - timedelta(days=20), last=DAY + timedelta(days=10)
        )

    assert len(month) == len(day)
    marks = DailyKpi.objects.filter(kpi=selectors.ROLLUP_MARK).count()
    assert marks == 31


def test_a_command_rolls_up_the_history_of_every_tenant(tenant, other_tenant, mixed_day):
    call_command("rollup_kpis", "--days", "40", stdout=io.StringIO())

    marks = DailyKpi.objects.filter(kpi=selectors.ROLLUP_MARK)
    assert marks.filter(tenant=tenant).count() == 40
    assert marks.filter(tenant=other_tenant).count() == 40
    assert DailyKpi.objects.filter(tenant=tenant, day=DAY, kpi="windows_kept").exists()
