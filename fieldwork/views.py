"""Pages around the phone: the customer's live arrival page and service report (public,
reached by signed links), and the photos for the people allowed to see them."""

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django_ratelimit.decorators import ratelimit

from accounts.models import Role
from accounts.permissions import role_required
from core.errors import NotFound
from core.tenancy import tenant_enter
from fieldwork.catalog import resolutions_for
from fieldwork.links import visit_for_live_token, visit_for_report_token
from fieldwork.models import VisitPhoto
from fieldwork.selectors import get_photo_for_user, live_state
from intake.limits import portal_rate
from requests_app.tracking import LinkExpired
from technicians.models import Visit


def _expired(request: HttpRequest, expired: LinkExpired) -> HttpResponse:
    return render(request, "intake/link_expired.html", {"sr": expired.service_request}, status=410)


def _enter(visit: Visit) -> None:
    tenant_enter(visit.tenant_id)
    timezone.activate(visit.request.tenant.zone)


@ratelimit(key="ip", rate=portal_rate, block=True)
def customer_live(request: HttpRequest, token: str) -> HttpResponse:
    """The technician coming: first name, ETA, their position while on the way (polled)."""
    try:
        visit = visit_for_live_token(token)
    except LinkExpired as expired:
        return _expired(request, expired)
    except NotFound:
        raise Http404 from None
    _enter(visit)
    return render(
        request,
        "fieldwork/live.html",
        {
            "tenant": visit.request.tenant,
            "sr": visit.request,
            "state": live_state(visit),
            "tiles": settings.MAP_TILE_URL,
            "attribution": settings.MAP_ATTRIBUTION,
        },
    )


@never_cache
def customer_live_state(request: HttpRequest, token: str) -> JsonResponse:
    """What the live page polls; 410 once the link has ended (the page says so)."""
    try:
        visit = visit_for_live_token(token)
    except LinkExpired:
        return JsonResponse({"ended": True}, status=410)
    except NotFound:
        raise Http404 from None
    _enter(visit)
    return JsonResponse(live_state(visit))


@ratelimit(key="ip", rate=portal_rate, block=True)
def service_report(request: HttpRequest, token: str) -> HttpResponse:
    try:
        visit = visit_for_report_token(token)
    except LinkExpired as expired:
        return _expired(request, expired)
    except NotFound:
        raise Http404 from None
    if visit.status != Visit.Status.COMPLETED:
        raise Http404
    _enter(visit)
    proof = getattr(visit, "proof", None)
    return render(
        request,
        "fieldwork/report.html",
        {
            "tenant": visit.request.tenant,
            "sr": visit.request,
            "visit": visit,
            "proof": proof,
            "resolution": _resolution_label(visit, proof),
            "parts": visit.parts_used.select_related("part"),
            "photos": visit.photos.filter(kind=VisitPhoto.Kind.WORK),
            "token": token,
        },
    )


def _resolution_label(visit: Visit, proof) -> str:
    from_catalog = dict(resolutions_for(visit.request.category))
    return str(from_catalog.get(proof.resolution, proof.resolution)) if proof else ""


def service_report_file(request: HttpRequest, token: str, kind: str, pk: int) -> FileResponse:
    """A photo or the signature of a report, for whoever holds the report's link."""
    try:
        visit = visit_for_report_token(token)
    except NotFound:  # an expired link too
        raise Http404 from None
    _enter(visit)
    if kind == "signature":
        proof = getattr(visit, "proof", None)
        if proof is None or not proof.signature:
            raise Http404
        return FileResponse(proof.signature.open("rb"), content_type="image/png")
    photo = visit.photos.filter(pk=pk, kind=VisitPhoto.Kind.WORK).first()
    if photo is None:
        raise Http404
    return FileResponse(photo.file.open("rb"), content_type=photo.content_type)


@role_required(Role.TECHNICIAN, Role.DISPATCHER, Role.MANAGER, Role.ADMIN)
def photo(request: HttpRequest, pk: int) -> FileResponse:
    try:
        found = get_photo_for_user(request.user, pk)
    except NotFound:
        raise Http404 from None
    return FileResponse(found.file.open("rb"), content_type=found.content_type)
