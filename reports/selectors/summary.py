"""The report: every figure of a period, with the previous period's."""

from reports.selectors.figures import (
    backlog,
    complaints,
    requests_by_channel,
    satisfaction,
    time_to_restore,
    unproductive_visits_by_reason,
    workload,
)
from reports.selectors.filters import KpiFilter
from reports.selectors.misses import promise_misses_by_cause
from reports.selectors.rates import RATES, kpi_rate

# ---- The report: every figure of a period, with the previous period's --------------------


def kpi_figures(*, f: KpiFilter, tenant) -> dict:
    """Every KPI of one period as plain values (what the page, the API and exports show)."""
    rates = {key: kpi_rate(key=key, f=f, tenant=tenant) for key in RATES}
    load = workload(f=f)
    restore = time_to_restore(f=f, tenant=tenant)
    mood = satisfaction(f=f)
    cases = complaints(f=f, tenant=tenant, completed=rates["first_time_fix"].total)
    return {
        "rates": {
            key: {"label": r.label, "hits": r.hits, "total": r.total, "percent": r.percent}
            for key, r in rates.items()
        },
        "promise_misses_by_cause": promise_misses_by_cause(f=f, tenant=tenant),
        "unproductive_by_reason": unproductive_visits_by_reason(f=f),
        "time_to_restore": {
            "n": restore.n,
            "median_hours": restore.median_hours,
            "within_sla": restore.within_sla,
        },
        "satisfaction": {
            "csat_n": mood.csat_n,
            "csat_average": mood.csat_average,
            "csat_satisfied_percent": mood.csat_satisfied_percent,
            "nps_n": mood.nps_n,
            "nps": mood.nps,
        },
        "workload": {
            "shift_minutes": load.shift_minutes,
            "utilization_percent": load.utilization_percent,
            "travel_share_percent": load.travel_share_percent,
            "technician_days": load.technician_days,
            "jobs_completed": load.jobs_completed,
            "jobs_per_technician_day": load.jobs_per_technician_day,
        },
        "requests_by_channel": requests_by_channel(f=f),
        "complaints": {
            "opened": cases.opened,
            "still_open": cases.still_open,
            "per_1000_completed": cases.per_1000_completed,
        },
    }


def kpi_summary(*, f: KpiFilter, tenant) -> dict:
    """This period's figures, the previous period's, and the backlog now."""
    current = kpi_figures(f=f, tenant=tenant)
    before = kpi_figures(f=f.previous(), tenant=tenant)
    for key, rate in current["rates"].items():
        was = before["rates"][key]["percent"]
        now = rate["percent"]
        rate["change"] = round(now - was, 1) if now is not None and was is not None else None
        rate["previous_percent"] = was
    stock = backlog(f=f)
    current["backlog"] = {
        "open": stock.open,
        "median_age_hours": stock.median_age_hours,
        "by_age": stock.by_age,
    }
    current["period"] = {"start": f.start, "end": f.end}
    return current
