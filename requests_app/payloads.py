"""The JSON shape of a request on live screens: the same for events, the board and the API."""

from requests_app.models import ServiceRequest
from technicians.models import Visit


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def active_visit(request: ServiceRequest) -> Visit | None:
    """The live visit, using a prefetched `active_visits` list when the caller made one."""
    prefetched = getattr(request, "active_visits", None)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    # At most one live visit per request (a unique index): no ordering, so no sort to plan.
    found = list(
        Visit.objects.filter(request=request, status__in=Visit.ACTIVE)
        .select_related("technician__user")
        .order_by()[:1]
    )
    return found[0] if found else None


def current_visit(request: ServiceRequest) -> Visit | None:
    """The live visit as it is in the database now. A prefetched `active_visits` list was read
    before the change being reported (a reassignment moved the visit to someone else): it is
    dropped and replaced with what was read."""
    request.__dict__.pop("active_visits", None)
    visit = active_visit(request)
    request.active_visits = [visit] if visit else []
    return visit


def request_payload(request: ServiceRequest, visit: Visit | None = None) -> dict:
    visit = visit or active_visit(request)
    return {
        "id": request.pk,
        "number": request.number,
        "kind": request.kind,
        "status": request.status,
        "status_label": str(ServiceRequest.Status(request.status).label),
        "priority": request.priority,
        "category": request.category,
        "category_label": str(ServiceRequest.Category(request.category).label),
        "customer": request.customer.name,
        "customer_id": request.customer_id,
        "address": request.address,
        "lat": request.lat,
        "lon": request.lon,
        "window_start": _iso(request.window_start),
        "window_end": _iso(request.window_end),
        "response_due": _iso(request.response_due),
        "created_at": _iso(request.created_at),
        "window_at_risk": request.window_at_risk,
        "held": request.held,
        "plan_note": request.plan_note,
        "incident_id": request.incident_id,
        "reports": request.reports,
        "channel": request.channel,
        "version": request.version,
        "visit": None
        if visit is None
        else {
            "id": visit.pk,
            "technician_id": visit.technician_id,
            "technician": str(visit.technician),
            "planned_start": _iso(visit.planned_start),
            "planned_end": _iso(visit.planned_end),
            "status": visit.status,
        },
    }
