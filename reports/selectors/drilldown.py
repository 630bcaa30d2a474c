"""The requests behind a figure: what the drill-down and the exports list."""

from django.db.models import (
    QuerySet,
)

from reports.selectors.figures import _complaints
from reports.selectors.filters import OPEN, KpiFilter
from reports.selectors.misses import promise_misses
from reports.selectors.populations import _created, _requests
from reports.selectors.rates import RATES, _split
from requests_app.models import ServiceRequest


def kpi_requests(*, key: str, f: KpiFilter, tenant, part: str = "hits") -> QuerySet:
    """The requests a figure counts (`part`: its hits, its misses or all of it)."""
    if key in RATES:
        definition = RATES[key]
        rows = _split(definition, definition.population(f, tenant), part)
        if definition.of_visits:
            return _requests_named(f, rows.values("request_id"))
        return _requests_named(f, rows.values("pk"))
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


# Figures whose requests can be listed: the rates, and the counts below.
DRILLABLE = [*RATES, "promise_misses", "requests_by_channel", "backlog", "complaints"]


def _requests_named(f: KpiFilter, ids) -> QuerySet:
    return (
        ServiceRequest.objects.for_tenant(f.tenant_id)
        .filter(pk__in=ids)
        .select_related("customer")
        .order_by("-created_at", "-pk")
    )
