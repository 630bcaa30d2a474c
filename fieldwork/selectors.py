"""Reads for the technician's phone and the customer's links, scoped in one place."""

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User
from core.errors import NotFound
from core.geo import haversine_km
from dispatch.travel import travel_for_tenant
from fieldwork.catalog import checklist_for, resolutions_for
from fieldwork.models import LocationPing, Part, VisitPhoto
from technicians.models import Shift, Technician, Visit
from technicians.selectors import visits_of_day

# A shared position older than this is not shown to the customer (the phone went quiet).
POSITION_FRESH = timedelta(minutes=3)
EARLIER_VISITS = 5
FINISHED = (Visit.Status.COMPLETED, Visit.Status.NOT_COMPLETED)


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def map_link(lat: float, lon: float) -> str:
    return settings.MAP_LINK_URL.format(lat=f"{lat:.6f}", lon=f"{lon:.6f}")


def technician_day(*, technician: Technician, day: date) -> dict:
    """Everything the phone shows for a day, in one answer it can keep for offline use: the
    jobs in order with their details, the shift, the parts catalogue and the reason codes."""
    visits = list(
        visits_of_day(technician=technician, day=day)
        .prefetch_related("request__required_skills", "parts_used__part")
        .select_related("proof")
    )
    earlier = _earlier_visits(visits)
    shift = Shift.objects.filter(technician=technician, date=day).first()
    parts = Part.objects.for_tenant(technician.tenant_id).filter(active=True)
    return {
        "date": day.isoformat(),
        "server_time": _iso(timezone.now()),
        "technician": {
            "id": technician.pk,
            "first_name": technician.user.first_name,
            "location_consent": technician.location_consent,
        },
        "shift": _shift_payload(shift),
        "visits": [_visit_payload(visit, earlier.get(visit.pk, [])) for visit in visits],
        "parts": [{"code": p.code, "name": p.name, "unit": p.unit} for p in parts],
        "reasons": [{"code": code, "label": str(label)} for code, label in Visit.Reason.choices],
    }


def _shift_payload(shift: Shift | None) -> dict | None:
    if shift is None:
        return None
    return {
        "start": _iso(shift.start),
        "end": _iso(shift.end),
        # The lunch break as the planner placed it (None until a plan placed one).
        "break_start": _iso(shift.break_start),
        "break_end": _iso(shift.break_end),
    }


def _visit_payload(visit: Visit, earlier: list[dict]) -> dict:
    request, customer = visit.request, visit.request.customer
    proof = getattr(visit, "proof", None)
    return {
        "id": visit.pk,
        "status": visit.status,
        "status_label": str(Visit.Status(visit.status).label),
        "planned_start": _iso(visit.planned_start),
        "planned_end": _iso(visit.planned_end),
        "reason": visit.reason,
        "note": visit.note,
        "request": {
            "id": request.pk,
            "number": request.number,
            "kind": request.kind,
            "kind_label": str(request.get_kind_display()),
            "category": request.category,
            "category_label": str(request.get_category_display()),
            "priority": request.priority,
            "description": request.description,
            "address": request.address or customer.address,
            "lat": request.lat,
            "lon": request.lon,
            "window_start": _iso(request.window_start),
            "window_end": _iso(request.window_end),
            "customer_confirmed": request.customer_confirmed_at is not None,
            "skills": [skill.name for skill in request.required_skills.all()],
        },
        "customer": {"name": customer.name, "phone": customer.phone},
        "links": {
            "geo": f"geo:{request.lat:.6f},{request.lon:.6f}?q={request.lat:.6f},{request.lon:.6f}",
            "map": map_link(request.lat, request.lon) if settings.MAP_LINK_URL else "",
        },
        "earlier": earlier,
        "checklist": [
            {"code": c, "label": str(label)} for c, label in checklist_for(request.category)
        ],
        "resolutions": [
            {"code": c, "label": str(label)} for c, label in resolutions_for(request.category)
        ],
        "proof": {
            "resolution": proof.resolution if proof else "",
            "checklist": proof.checklist if proof else [],
            "signed": bool(proof and proof.signature),
            "parts": [
                {"code": used.part.code, "quantity": str(used.quantity)}
                for used in visit.parts_used.all()
            ],
        },
    }


def _earlier_visits(visits: list[Visit]) -> dict[int, list[dict]]:
    """Finished visits at the same customer or address before today (a repeat call-out?), in
    one query for the whole day."""
    if not visits:
        return {}
    customers = {visit.request.customer_id for visit in visits}
    addresses = {visit.request.address for visit in visits if visit.request.address}
    rows = (
        Visit.objects.for_tenant(visits[0].tenant_id)
        .filter(Q(request__customer_id__in=customers) | Q(request__address__in=addresses))
        .filter(status__in=FINISHED)
        .exclude(request_id__in=[visit.request_id for visit in visits])
        .select_related("request", "technician__user")
        .order_by("-planned_start")[:200]
    )
    found = defaultdict(list)
    for visit in visits:
        for row in rows:
            same_place = row.request.customer_id == visit.request.customer_id or (
                visit.request.address and row.request.address == visit.request.address
            )
            if same_place and len(found[visit.pk]) < EARLIER_VISITS:
                found[visit.pk].append(
                    {
                        "number": row.request.number,
                        "date": timezone.localdate(row.planned_start).isoformat(),
                        "status": row.status,
                        "status_label": str(Visit.Status(row.status).label),
                        "category_label": str(row.request.get_category_display()),
                        "reason_label": str(Visit.Reason(row.reason).label) if row.reason else "",
                        "note": row.note[:200],
                        "technician": row.technician.user.first_name,
                    }
                )
    return found


def latest_ping(visit: Visit) -> LocationPing | None:
    return LocationPing.objects.filter(visit=visit).order_by("-received_at").first()


def visit_eta(visit: Visit, origin: tuple[float, float], *, now: datetime) -> tuple[datetime, int]:
    """When the technician at `origin` arrives (the tenant's travel model: great-circle ×
    detour ÷ speed by default), and the distance in metres as the crow flies."""
    request = visit.request
    seconds = travel_for_tenant(request.tenant).seconds(origin, (request.lat, request.lon))
    metres = round(haversine_km(origin[0], origin[1], request.lat, request.lon) * 1000)
    return now + timedelta(seconds=seconds), metres


def live_state(visit: Visit, *, now: datetime | None = None) -> dict:
    """What the customer's live page shows: who is coming, when, and where they are while on
    the way (only then, and only a fresh position the technician agreed to share)."""
    now = now or timezone.now()
    request = visit.request
    state = {
        "status": visit.status,
        "status_label": str(Visit.Status(visit.status).label),
        "technician": visit.technician.user.first_name,
        "window_start": _iso(request.window_start),
        "window_end": _iso(request.window_end),
        "destination": {"lat": request.lat, "lon": request.lon},
        "eta": None,
        "position": None,
        "late": False,
        "arrived_at": _iso(visit.arrived_at),
        "finished_at": _iso(visit.finished_at),
    }
    if visit.status in (Visit.Status.SCHEDULED, Visit.Status.ACCEPTED):
        state["eta"] = _iso(visit.planned_start)
    elif visit.status == Visit.Status.EN_ROUTE:
        ping = latest_ping(visit)
        fresh = ping is not None and now - ping.received_at < POSITION_FRESH
        if fresh and visit.technician.location_consent:
            state["position"] = {"lat": ping.lat, "lon": ping.lon}
            eta, _metres = visit_eta(visit, (ping.lat, ping.lon), now=ping.received_at)
        else:
            eta = max(visit.planned_start, now)
        state["eta"] = _iso(eta)
        state["late"] = bool(request.window_end and eta > request.window_end)
    return state


def get_photo_for_user(user: User, pk: int) -> VisitPhoto:
    """A photo: the technician of its visit, or the tenant's dispatchers, managers, admins."""
    if not user.is_authenticated or user.tenant_id is None:
        raise NotFound()
    photos = VisitPhoto.objects.for_tenant(user.tenant_id)
    if user.role == Role.TECHNICIAN:
        photos = photos.filter(visit__technician__user=user)
    elif user.role not in (Role.DISPATCHER, Role.MANAGER, Role.ADMIN):
        raise NotFound()
    photo = photos.filter(pk=pk).first()
    if photo is None:
        raise NotFound()
    return photo
