"""Outage grouping: emergencies of one category close in space and time are one incident."""

import math
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from accounts.models import Tenant
from dispatch.geo import haversine_km
from requests_app.models import Incident, ServiceRequest


def incident_link(*, request: ServiceRequest) -> Incident | None:
    """Link a new emergency to the outage it belongs to: an open incident of its category
    nearby, or a new one when another customer nearby reported the same lately. Runs inside
    request_create's transaction under the tenant's row lock, so two reports of one outage
    never open two incidents."""
    tenant = Tenant.objects.select_for_update().get(pk=request.tenant_id)
    now = timezone.now()
    since = now - timedelta(minutes=tenant.outage_window_minutes)
    radius_km = tenant.outage_radius_m / 1000
    here = (request.lat, request.lon)
    # A box around the report narrows the rows in SQL; the exact distance is checked below.
    dlat = radius_km / 111.0
    dlon = radius_km / (111.0 * max(0.01, math.cos(math.radians(request.lat))))
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
    ServiceRequest.objects.filter(pk__in=[other.pk for other in neighbours]).update(
        incident=incident
    )
    return _link(request, incident)


def _link(request: ServiceRequest, incident: Incident) -> Incident:
    request.incident = incident
    request.save(update_fields=["incident", "updated_at"])
    return incident
