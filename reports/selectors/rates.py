"""Rate KPIs: one definition each for the headline, the trend and the drill-down."""

from dataclasses import dataclass

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
from reports.selectors.rollup import _rolled_counts, rolled_split, rolled_trend
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
    rolled, live = rolled_split(f)
    hits = total = 0
    if rolled is not None:
        hits, total = _rolled_counts(key, rolled)
    if live is not None:
        live_hits, live_total = _live_counts(definition, live, tenant)
        hits, total = hits + live_hits, total + live_total
    return Rate(key, str(definition.label), hits, total)


def _live_counts(definition: "RateDefinition", f: KpiFilter, tenant) -> tuple[int, int]:
    counts = definition.population(f, tenant).aggregate(
        total=Count("pk"), hits=Count("pk", filter=definition.hit)
    )
    return counts["hits"], counts["total"]


def kpi_rate_trend(*, key: str, f: KpiFilter, tenant, bucket: str) -> list[dict]:
    """The rate per day/week/month of the tenant's calendar: the roll-up's days summed by
    bucket, the rest computed live (a bucket across both adds them). Two queries at most."""
    definition = RATES[key]
    rolled, live = rolled_split(f)
    points: dict = {}
    if rolled is not None:
        for period, hits, total in rolled_trend(rolled, key=key, bucket=bucket):
            _add_point(points, period, hits, total)
    if live is not None:
        rows = (
            definition.population(live, tenant)
            .annotate(period=Trunc(definition.date_field, bucket, tzinfo=f.zone))
            .values("period")
            .annotate(total=Count("pk"), hits=Count("pk", filter=definition.hit))
            .order_by("period")
        )
        for row in rows:
            _add_point(points, row["period"], row["hits"], row["total"])
    return [
        {
            "period": period,
            "hits": hits,
            "total": total,
            "percent": Rate(key, "", hits, total).percent,
        }
        for period, (hits, total) in sorted(points.items())
    ]


def _add_point(points: dict, period, hits: int, total: int) -> None:
    was_hits, was_total = points.get(period, (0, 0))
    points[period] = (was_hits + hits, was_total + total)


def _split(definition: RateDefinition, rows: QuerySet, part: str) -> QuerySet:
    """Hits, misses or all. A miss is what is not a hit, a row whose compared value is
    missing (no arrival yet) included: SQL's NOT would drop those with their NULL."""
    if part == "all":
        return rows
    counted = Case(When(definition.hit, then=Value(True)), default=Value(False))
    rows = rows.annotate(counted=ExpressionWrapper(counted, output_field=BooleanField()))
    return rows.filter(counted=(part == "hits"))
