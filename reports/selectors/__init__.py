"""The KPIs: one selector per figure, each defined in docs/kpis.md, read from the rows the
platform keeps (requests and their status changes, visits, shifts, absences, survey responses
and follow-up cases), or from their nightly roll-up for the days it holds.

A rate KPI is a population (a queryset of requests or visits in the period), the date that
puts a row in a period, and the condition a row meets to count: the headline, the trend and
the drill-down all read that one definition, so a number and the list behind it never
disagree. Every selector runs a fixed number of queries, whatever the volume.

The package by subdomain: `filters` (who reads, what about), `populations`, `rates`, `rollup`
(reads of the roll-up), `misses` (promise misses by cause), `figures` (the other KPIs),
`daily` (what the roll-up keeps), `summary`, `drilldown` and `exports`. Callers import from
`reports.selectors`.
"""

from reports.selectors.daily import kpi_cells_by_day
from reports.selectors.drilldown import DRILLABLE, kpi_requests, kpi_requests_count
from reports.selectors.exports import (
    EXPORT_CHUNK,
    get_export_for_user,
    kpi_export_headings,
    kpi_export_rows,
)
from reports.selectors.figures import (
    AGE_BUCKETS,
    Backlog,
    Complaints,
    Restoration,
    Satisfaction,
    Workload,
    backlog,
    complaints,
    requests_by_channel,
    satisfaction,
    time_to_restore,
    unproductive_visits_by_reason,
    workload,
)
from reports.selectors.filters import (
    BREAK_IN_LEAD,
    BUCKETS,
    OPEN,
    REPEAT_DAYS,
    REPORT_ROLES,
    KpiFilter,
    kpi_filter_for,
    report_tenant_for_user,
)
from reports.selectors.misses import Cause, PromiseMiss, promise_misses, promise_misses_by_cause
from reports.selectors.rates import (
    RATES,
    Rate,
    RateDefinition,
    kpi_rate,
    kpi_rate_trend,
)
from reports.selectors.rollup import ROLLUP_MARK
from reports.selectors.summary import kpi_figures, kpi_summary

__all__ = [
    "AGE_BUCKETS",
    "BREAK_IN_LEAD",
    "BUCKETS",
    "DRILLABLE",
    "EXPORT_CHUNK",
    "OPEN",
    "RATES",
    "REPEAT_DAYS",
    "REPORT_ROLES",
    "ROLLUP_MARK",
    "Backlog",
    "Cause",
    "Complaints",
    "KpiFilter",
    "PromiseMiss",
    "Rate",
    "RateDefinition",
    "Restoration",
    "Satisfaction",
    "Workload",
    "backlog",
    "complaints",
    "get_export_for_user",
    "kpi_cells_by_day",
    "kpi_export_headings",
    "kpi_export_rows",
    "kpi_figures",
    "kpi_filter_for",
    "kpi_rate",
    "kpi_rate_trend",
    "kpi_requests",
    "kpi_requests_count",
    "kpi_summary",
    "promise_misses",
    "promise_misses_by_cause",
    "report_tenant_for_user",
    "requests_by_channel",
    "satisfaction",
    "time_to_restore",
    "unproductive_visits_by_reason",
    "workload",
]
