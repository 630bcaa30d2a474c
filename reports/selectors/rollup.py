"""Reads of the nightly roll-up (`DailyKpi`): which days it holds, and its sums."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import (
    Sum,
)
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
