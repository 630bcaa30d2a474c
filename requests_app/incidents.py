"""Grouping reports: the same customer reporting an open emergency again joins it; emergencies
of one category close in space and time from several customers are one incident (an outage)."""

import math
from datetime import timedelta

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.db import LockScope, advisory_xact_locks
from core.events import Change, events_emit
from core.geo import haversine_km
from requests_app.models import Customer, Incident, ServiceRequest
from requests_app.payloads import active_visit, request_payload
from requests_app.selectors import with_active_visit
from requests_app.services import request_changed, request_noted, requests_version_raise
from requests_app.states import CLOSED

# Two reports of one customer this close (GPS and geocoding noise) are of the same place.
SAME_PLACE_M = 50


def open_emergency_at(
    *, customer: Customer, lat: float, lon: float, address: str
) -> ServiceRequest | None:
    """The customer's open emergency at this place (within SAME_PLACE_M, or the same address
    text), locked. The customer's row is locked first, so two reports of theirs at once are
    taken in one after the other and the second sees the first."""
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    place = " ".join(address.split()).casefold()
    for request in (
        ServiceRequest.objects.select_for_update()
        .select_related("tenant", "customer")
        .filter(customer=customer, kind=ServiceRequest.Kind.EMERGENCY)
        .exclude(status__in=CLOSED)
        .order_by("created_at")
    ):
        if haversine_km(lat, lon, request.lat, request.lon) * 1000 <= SAME_PLACE_M or (
            place and place == " ".join(request.address.split()).casefold()
        ):
            return request
    return None


def request_report_again(
    *, request: ServiceRequest, channel: str, description: str = "", actor: User | None = None
) -> ServiceRequest:
    """Record another report of an open emergency on it: counted, a row saying by which
    channel (and what the customer said), and a live event so the board shows it. No second
    visit, no second assignment."""
    ServiceRequest.objects.filter(pk=request.pk).update(
        reports=F("reports") + 1, updated_at=timezone.now()
    )
    request.refresh_from_db(fields=["reports", "updated_at"])
    note = _("Reported again via %(channel)s") % {"channel": ServiceRequest.Channel(channel).label}
    request_noted(
        request=request, reason=f"{note}: {description}" if description else note, actor=actor
    )
    request_changed(request=request)
    request.joined = True
    return request


def incident_link(*, request: ServiceRequest) -> Incident | None:
    """Link a new emergency to the outage it belongs to: an open incident of its category
    nearby, or a new one when another customer nearby reported the same lately. Runs inside
    request_create's transaction under the grouping locks of its area, so two reports of one
    outage never open two incidents, while reports far apart do not wait for each other.

    The locks are advisory ones, not the tenant's row: the assignment engine holds a request's
    row and then takes the tenant's row (for the event counter), while this takes the locks and
    then the rows of the requests it links. Sharing the tenant row would deadlock the two."""
    tenant = request.tenant
    now = timezone.now()
    since = now - timedelta(minutes=tenant.outage_window_minutes)
    radius_km = tenant.outage_radius_m / 1000
    here = (request.lat, request.lon)
    # A box around the report narrows the rows in SQL; the exact distance is checked below.
    dlat = radius_km / 111.0
    dlon = radius_km / (111.0 * _cos_poleward(request.lat, dlat))
    _lock_area(tenant.pk, request.category, request.lat, request.lon, dlat, dlon)
    box = {
        "lat__range": (request.lat - dlat, request.lat + dlat),
        "lon__range": (request.lon - dlon, request.lon + dlon),
    }
    for incident in Incident.objects.for_tenant(tenant).filter(
        category=request.category, last_report_at__gte=since, **box
    ):
        if haversine_km(*here, incident.lat, incident.lon) <= radius_km:
            Incident.objects.filter(pk=incident.pk).update(
                reports=F("reports") + 1, last_report_at=now
            )
            incident.refresh_from_db()
            return _link(request, incident)
    neighbours = [
        other
        for other in ServiceRequest.objects.for_tenant(tenant)
        .filter(
            kind=ServiceRequest.Kind.EMERGENCY,
            category=request.category,
            incident__isnull=True,
            created_at__gte=since,
            **box,
        )
        .exclude(pk=request.pk)
        .exclude(status__in=(ServiceRequest.Status.CANCELLED, ServiceRequest.Status.COMPLETED))
        if haversine_km(*here, other.lat, other.lon) <= radius_km
    ]
    if not neighbours:
        return None
    incident = Incident.objects.create(
        tenant=tenant,
        category=request.category,
        lat=request.lat,
        lon=request.lon,
        opened_at=min(other.created_at for other in neighbours),
        last_report_at=now,
        reports=len(neighbours) + 1,
    )
    linked = [other.pk for other in neighbours]
    ServiceRequest.objects.filter(pk__in=linked).update(incident=incident, updated_at=now)
    _announce(tenant.pk, linked)
    return _link(request, incident)


def _announce(tenant_id: int, request_ids: list[int]) -> None:
    """Live screens regroup the earlier reports under the new incident."""
    changes = []
    others = list(with_active_visit(ServiceRequest.objects.filter(pk__in=request_ids)))
    requests_version_raise(others)
    for other in others:
        visit = active_visit(other)
        changes.append(
            Change(
                "request.updated",
                request_payload(other, visit),
                visit.technician_id if visit else None,
            )
        )
    events_emit(tenant_id=tenant_id, changes=changes)


def _cos_poleward(lat: float, dlat: float) -> float:
    """cos of the latitude furthest from the equator within ±dlat: the box it sizes covers the
    radius everywhere in it."""
    return max(0.01, math.cos(math.radians(min(89.0, abs(lat) + dlat))))


def _lock_area(tenant_id: int, category: str, lat: float, lon: float, dlat: float, dlon: float):
    """Take the grouping locks of every grid cell the report's box touches, in key order.

    Cells are `dlat` high and, in each row, at least the radius wide. A report within the radius
    of another lies in that one's box, so its own cell is among the other's cells: two reports
    of one outage always wait for each other, reports far apart never do."""
    cells = set()
    for row in range(math.floor((lat - dlat) / dlat), math.floor((lat + dlat) / dlat) + 1):
        centre = (row + 0.5) * dlat
        width = dlat / _cos_poleward(centre, dlat)
        for column in range(math.floor((lon - dlon) / width), math.floor((lon + dlon) / width) + 1):
            cells.add((tenant_id, category, row, column))
    advisory_xact_locks(LockScope.OUTAGE_AREA, cells)


def _link(request: ServiceRequest, incident: Incident) -> Incident:
    request.incident = incident
    request.save(update_fields=["incident", "updated_at"])
    return incident
