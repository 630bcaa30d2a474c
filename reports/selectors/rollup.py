"""Reads of the nightly roll-up (`DailyKpi`): which days it holds, and its sums."""

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import DateField, Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from reports.models import DailyKpi
from reports.selectors.filters import KpiFilter

ROLLUP_MARK = "_day"  # a day's marker row: the day was rolled up (even with nothing in it)


def _days(f: KpiFilter) -> list[date]:
    first = timezone.localtime(f.start, f.zone).date()
    last = timezone.localtime(f.end - timedelta(microseconds=1), f.zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), zone)


def _rolled_up_until(f: KpiFilter) -> datetime:
    """The end of the run of days from the period's start that the roll-up holds, never past
    the start of today (today is always live). One query per report, cached on the filter."""
    today = timezone.localdate(timezone=f.zone)
    days = _days(f)
    refreshed = set(
        DailyKpi.objects.for_tenant(f.tenant_id)
        .filter(kpi=ROLLUP_MARK, day__gte=days[0], day__lte=days[-1])
        .values_list("day", flat=True)
    )
    cutoff = f.start
    for day in days:
        if day >= today or day not in refreshed:
            break
        cutoff = _day_start(day + timedelta(days=1), f.zone)
    return min(cutoff, f.end)


def _rolled_counts(key: str, f: KpiFilter) -> tuple[int, int]:
    days = _days(f)
    rows = DailyKpi.objects.for_tenant(f.tenant_id).filter(
        kpi=key, day__gte=days[0], day__lte=days[-1]
    )
    if f.category:
        rows = rows.filter(category=f.category)
    if f.channel:
        rows = rows.filter(channel=f.channel)
    sums = rows.aggregate(hits=Sum("hits"), total=Sum("total"))
    return sums["hits"] or 0, sums["total"] or 0


def rolled_split(f: KpiFilter) -> tuple[KpiFilter | None, KpiFilter | None]:
    """The part of the period to read from the roll-up and the part to compute live (None
    when empty). The roll-up is by category and channel only: a report narrowed to a
    technician, a territory or a team is all live."""
    if f.narrows_technicians:
        return None, f
    cutoff = _rolled_up_until(f)
    rolled = replace(f, end=cutoff) if cutoff > f.start else None
    live = replace(f, start=cutoff) if cutoff < f.end else None
    return rolled, live


def rolled_sums(f: KpiFilter, *, prefix: str, cells: bool = True) -> dict[str, tuple[int, int]]:
    """The roll-up's hits and totals over the period's days, by KPI, for the KPIs named
    `prefix…` (one query). `cells=False` for figures kept without category and channel (the
    workload: a shift has neither)."""
    days = _days(f)
    rows = DailyKpi.objects.for_tenant(f.tenant_id).filter(
        kpi__startswith=prefix, day__gte=days[0], day__lte=days[-1]
    )
    if cells and f.category:
        rows = rows.filter(category=f.category)
    if cells and f.channel:
        rows = rows.filter(channel=f.channel)
    sums = rows.values("kpi").annotate(hits=Sum("hits"), total=Sum("total")).order_by()
    return {row["kpi"]: (row["hits"] or 0, row["total"] or 0) for row in sums}


def rolled_trend(f: KpiFilter, *, key: str, bucket: str) -> list[tuple[datetime, int, int]]:
    """One rate's roll-up summed by day, week or month of the tenant's calendar: (the
    bucket's first moment, hits, total), as the live trend gives them."""
    days = _days(f)
    rows = DailyKpi.objects.for_tenant(f.tenant_id).filter(
        kpi=key, day__gte=days[0], day__lte=days[-1]
    )
    if f.category:
        rows = rows.filter(category=f.category)
    if f.channel:
        rows = rows.filter(channel=f.channel)
    sums = (
        rows.annotate(period=Trunc("day", bucket, output_field=DateField()))
        .values("period")
        .annotate(hits=Sum("hits"), total=Sum("total"))
        .order_by("period")
    )
    return [(_day_start(row["period"], f.zone), row["hits"], row["total"]) for row in sums]
