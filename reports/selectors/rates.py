"""Rate KPIs: one definition each for the headline, the trend and the drill-down."""

from dataclasses import dataclass, replace

from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Trunc
from django.utils.translation import gettext_lazy as _

from reports.selectors.filters import KpiFilter
from reports.selectors.populations import (
    _completed,
    _emergencies,
    _finished_visits,
    _repeats,
    _windows,
)
from reports.selectors.rollup import ROLLUP_MARK, _rolled_counts, _rolled_up_until
from technicians.models import Visit

# ---- Rate KPIs: one definition for the headline, the trend and the drill-down ------------


@dataclass(frozen=True)
class RateDefinition:
    key: str
    label: str
    population: object  # (KpiFilter, Tenant) → QuerySet
    date_field: str
    hit: Q
    of_visits: bool = False  # a population of visits (drilled down to their requests)


def _on_time(f, tenant):
    return _windows(f).filter(first_arrival__isnull=False)


RATES = {
    definition.key: definition
    for definition in (
        RateDefinition(
            "on_time_arrival",
            _("On-time arrival"),
            _on_time,
            "window_end",
            Q(first_arrival__gte=F("window_start"), first_arrival__lte=F("window_end")),
        ),
        RateDefinition(
            "windows_kept",
            _("Windows kept"),
            lambda f, tenant: _windows(f),
            "window_end",
            Q(first_arrival__lte=F("window_end")),
        ),
        RateDefinition(
            "emergency_assigned_in_sla",
            _("Emergencies assigned within the SLA"),
            lambda f, tenant: _emergencies(f, sla_minutes=tenant.response_sla_minutes),
            "created_at",
            Q(first_assigned__lte=F("deadline")),
        ),
        RateDefinition(
            "emergency_on_site_in_sla",
            _("Emergencies on site within the SLA"),
            lambda f, tenant: _emergencies(f, sla_minutes=tenant.response_sla_minutes),
            "created_at",
            Q(first_arrival__lte=F("deadline")),
        ),
        RateDefinition(
            "first_time_fix",
            _("First-time fix"),
            lambda f, tenant: _completed(f),
            "completed_at",
            Q(arrivals__lte=1, reopened=False),
        ),
        RateDefinition(
            "repeat_requests",
            _("Repeat requests within 30 days"),
            lambda f, tenant: _repeats(f),
            "created_at",
            Q(repeat=True),
        ),
        RateDefinition(
            "unproductive_visits",
            _("Unproductive visits"),
            lambda f, tenant: _finished_visits(f),
            "finished_at",
            Q(status=Visit.Status.NOT_COMPLETED),
            of_visits=True,
        ),
    )
}


@dataclass(frozen=True)
class Rate:
    key: str
    label: str
    hits: int
    total: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.hits / self.total, 1) if self.total else None


def kpi_rate(*, key: str, f: KpiFilter, tenant) -> Rate:
    """Live from the rows, or — without a technician or territory filter — the days the
    nightly roll-up holds summed and the rest (today at least) computed live."""
    definition = RATES[key]
    if f.technician_id or f.territory:
        hits, total = _live_counts(definition, f, tenant)
        return Rate(key, str(definition.label), hits, total)
    cutoff = _rolled_up_until(f)
    hits = total = 0
    if cutoff > f.start:
        rolled = replace(f, end=cutoff)
        hits, total = _rolled_counts(key, rolled)
    if cutoff < f.end:
        live_hits, live_total = _live_counts(definition, replace(f, start=cutoff), tenant)
        hits, total = hits + live_hits, total + live_total
    return Rate(key, str(definition.label), hits, total)


def _live_counts(definition: "RateDefinition", f: KpiFilter, tenant) -> tuple[int, int]:
    counts = definition.population(f, tenant).aggregate(
        total=Count("pk"), hits=Count("pk", filter=definition.hit)
    )
    return counts["hits"], counts["total"]


def kpi_rates_by_cell(*, f: KpiFilter, tenant) -> list[dict]:
    """Every rate KPI of the period by category and channel (what the roll-up keeps), and the
    day's marker. One query per KPI."""
    cells = [{"kpi": ROLLUP_MARK, "category": "", "channel": "", "hits": 0, "total": 0}]
    for key, definition in RATES.items():
        prefix = "request__" if definition.of_visits else ""
        rows = (
            definition.population(f, tenant)
            .values(category_=F(f"{prefix}category"), channel_=F(f"{prefix}channel"))
            .annotate(total=Count("pk"), hits=Count("pk", filter=definition.hit))
            .order_by()
        )
        cells += [
            {
                "kpi": key,
                "category": row["category_"],
                "channel": row["channel_"],
                "hits": row["hits"],
                "total": row["total"],
            }
            for row in rows
        ]
    return cells


def kpi_rate_trend(*, key: str, f: KpiFilter, tenant, bucket: str) -> list[dict]:
    """The rate per day/week/month of the tenant's calendar: one query."""
    definition = RATES[key]
    rows = (
        definition.population(f, tenant)
        .annotate(period=Trunc(definition.date_field, bucket, tzinfo=f.zone))
        .values("period")
        .annotate(total=Count("pk"), hits=Count("pk", filter=definition.hit))
        .order_by("period")
    )
    return [
        {
            "period": row["period"],
            "hits": row["hits"],
            "total": row["total"],
            "percent": Rate(key, "", row["hits"], row["total"]).percent,
        }
        for row in rows
    ]


def _split(definition: RateDefinition, rows: QuerySet, part: str) -> QuerySet:
    """Hits, misses or all. A miss is what is not a hit, a row whose compared value is
    missing (no arrival yet) included: SQL's NOT would drop those with their NULL."""
    if part == "all":
        return rows
    counted = Case(When(definition.hit, then=Value(True)), default=Value(False))
    rows = rows.annotate(counted=ExpressionWrapper(counted, output_field=BooleanField()))
    return rows.filter(counted=(part == "hits"))
