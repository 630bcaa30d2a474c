"""What the nightly roll-up keeps, computed from the rows for a run of days: every figure that
adds up over days, by day of the tenant's calendar, category and channel. Set-based: one
grouped query per figure (and the promise misses' few), whatever the number of days."""

from collections import Counter
from datetime import date

from django.db.models import Count, F
from django.db.models.functions import TruncDate
from django.utils import timezone

from reports.selectors.figures import (
    CREATED_PREFIX,
    RESTORE_PREFIX,
    UNPRODUCTIVE_PREFIX,
    WORK_PREFIX,
    arrival_sums,
    arrivals_of,
    as_numbers,
    restorations,
    shift_sums,
    shifts_of,
)
from reports.selectors.filters import KpiFilter
from reports.selectors.misses import MISS_PREFIX, promise_misses
from reports.selectors.populations import _created, _finished_visits
from reports.selectors.rates import RATES
from reports.selectors.rollup import ROLLUP_MARK, _days
from technicians.models import Visit


def kpi_cells_by_day(*, f: KpiFilter, tenant) -> list[dict]:
    """Every cell the roll-up keeps for the period's days: {day, kpi, category, channel, hits,
    total}, with each day's marker (a day rolled up, even with nothing in it)."""
    cells = [_cell(day, ROLLUP_MARK, "", "", 0, 0) for day in _days(f)]
    for key, definition in RATES.items():
        prefix = "request__" if definition.of_visits else ""
        rows = (
            definition.population(f, tenant)
            .annotate(day_=TruncDate(definition.date_field, tzinfo=f.zone))
            .values("day_", category_=F(f"{prefix}category"), channel_=F(f"{prefix}channel"))
            .annotate(total=Count("pk"), hits=Count("pk", filter=definition.hit))
            .order_by()
        )
        cells += [
            _cell(r["day_"], key, r["category_"], r["channel_"], r["hits"], r["total"])
            for r in rows
        ]
    counts: Counter = Counter()
    for miss in promise_misses(f=f, tenant=tenant):
        day = timezone.localtime(miss.window_end, f.zone).date()
        counts[(day, MISS_PREFIX + miss.cause, miss.category, miss.channel)] += 1
    unproductive = (
        _finished_visits(f)
        .filter(status=Visit.Status.NOT_COMPLETED)
        .annotate(day_=TruncDate("finished_at", tzinfo=f.zone))
        .values("day_", "reason", category_=F("request__category"), channel_=F("request__channel"))
        .annotate(n=Count("pk"))
        .order_by()
    )
    for r in unproductive:
        key = UNPRODUCTIVE_PREFIX + (r["reason"] or Visit.Reason.OTHER)
        counts[(r["day_"], key, r["category_"], r["channel_"])] += r["n"]
    created = (
        _created(f)
        .annotate(day_=TruncDate("created_at", tzinfo=f.zone))
        .values("day_", "category", "channel")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for r in created:
        counts[(r["day_"], CREATED_PREFIX + r["channel"], r["category"], r["channel"])] += r["n"]
    cells += [_cell(*cell, n, n) for cell, n in counts.items()]
    return cells + _restore_cells(f, tenant) + _workload_cells(f)


def _restore_cells(f: KpiFilter, tenant) -> list[dict]:
    """Time to restore by day of completion: one row per whole minute (rounded) a restoration
    took, counting them (total) and those within the SLA (hits) — the median needs them all."""
    sums: Counter = Counter()
    for row in restorations(f, tenant):
        day = timezone.localtime(row["done"], f.zone).date()
        key = (
            day,
            RESTORE_PREFIX + str(round(row["seconds"] / 60)),
            row["category"],
            row["channel"],
        )
        sums[(*key, "total")] += 1
        sums[(*key, "hits")] += row["within_sla"]
    return [
        _cell(*key, sums[(*key, "hits")], n) for (*key, part), n in sums.items() if part == "total"
    ]


def _workload_cells(f: KpiFilter) -> list[dict]:
    """The workload's sums by day (shifts by their start, visits by their arrival), whole
    seconds; without category or channel (a shift has neither)."""
    sums: Counter = Counter()
    grouped = (
        (shifts_of(f), "start", shift_sums()),
        (arrivals_of(f), "arrived_at", arrival_sums()),
    )
    for rows, field, aggregates in grouped:
        by_day = (
            rows.annotate(day_=TruncDate(field, tzinfo=f.zone))
            .values("day_")
            .annotate(**aggregates)
            .order_by()
        )
        for row in by_day:
            for name, value in as_numbers(row).items():
                sums[(row["day_"], WORK_PREFIX + name)] += int(value)
    return [_cell(day, key, "", "", n, n) for (day, key), n in sums.items() if n > 0]


def _cell(day: date, kpi: str, category: str, channel: str, hits: int, total: int) -> dict:
    return {
        "day": day,
        "kpi": kpi,
        "category": category,
        "channel": channel,
        "hits": hits,
        "total": total,
    }
