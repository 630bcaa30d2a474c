"""The requests behind a figure: what the drill-down and the exports list."""

from django.db.models import (
    QuerySet,
)

from reports.selectors.figures import _complaints, requests_by_channel
from reports.selectors.filters import OPEN, KpiFilter
from reports.selectors.misses import promise_misses, promise_misses_by_cause
from reports.selectors.populations import _created, _requests
from reports.selectors.rates import RATES, _split, kpi_rate
from requests_app.models import ServiceRequest


def kpi_requests(*, key: str, f: KpiFilter, tenant, part: str = "hits") -> QuerySet:
    """The requests a figure counts (`part`: its hits, its misses or all of it)."""
    if key in RATES:
        definition = RATES[key]
        rows = _split(definition, definition.population(f, tenant), part)
        if definition.of_visits:
            return _requests_named(f, rows.values("request_id"))
        # The population itself, newest first: a page is read down the index by creation and
        # stops at its last row, instead of finding every row of the period first.
        return rows.select_related("customer").order_by("-created_at", "-pk")
    if key == "requests_by_channel":
        rows = _created(f)
        return _requests_named(
            f, (rows.filter(channel=part) if part != "all" else rows).values("pk")
        )
    if key == "backlog":
        return _requests_named(f, _requests(f).filter(status__in=OPEN).values("pk"))
    if key == "complaints":
        cases = _complaints(f).values("request_id")
        return _requests_named(f, cases)
    if key == "promise_misses":
        kept = RATES["windows_kept"]
        misses = _split(kept, kept.population(f, tenant), "misses")
        if part not in ("all", "hits", "misses"):
            ids = [
                miss.request_id for miss in promise_misses(f=f, tenant=tenant) if miss.cause == part
            ]
            return _requests_named(f, ids)
        return _requests_named(f, misses.values("pk"))
    raise KeyError(key)


def kpi_requests_count(*, key: str, f: KpiFilter, tenant, part: str = "hits") -> int | None:
    """How many requests `kpi_requests` lists, from the figure itself (the roll-up for the days
    it holds: the number on the page and the length of its list are one count), or None when
    only counting the list can say (visits' figures, which list each request once)."""
    if key in RATES and not RATES[key].of_visits:
        rate = kpi_rate(key=key, f=f, tenant=tenant)
        return {"hits": rate.hits, "misses": rate.total - rate.hits}.get(part, rate.total)
    if key == "promise_misses":
        if part in ("all", "hits", "misses"):
            kept = kpi_rate(key="windows_kept", f=f, tenant=tenant)
            return kept.total - kept.hits
        return promise_misses_by_cause(f=f, tenant=tenant).get(part, 0)
    if key == "requests_by_channel":
        counts = requests_by_channel(f=f)
        return sum(counts.values()) if part == "all" else counts.get(part, 0)
    return None


# Figures whose requests can be listed: the rates, and the counts below.
DRILLABLE = [*RATES, "promise_misses", "requests_by_channel", "backlog", "complaints"]


def _requests_named(f: KpiFilter, ids) -> QuerySet:
    return (
        ServiceRequest.objects.for_tenant(f.tenant_id)
        .filter(pk__in=ids)
        .select_related("customer")
        .order_by("-created_at", "-pk")
    )
