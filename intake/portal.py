"""The customer portal: no account, a phone in hand. Report a problem, pick an arrival window,
follow the request from a tracking link, move or cancel it until the tenant's cut-off."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django_ratelimit.decorators import ratelimit

from accounts.models import Tenant
from core.errors import DomainError, NotFound
from core.tenancy import tenant_enter
from intake.forms import CATEGORY_MINUTES, PortalRequestForm
from intake.limits import portal_rate
from intake.windows import by_day, offers_for, parse_window
from requests_app.booking import (
    customer_may_change,
    request_cancel,
    request_create,
    request_reschedule,
)
from requests_app.models import Customer, ServiceRequest
from requests_app.payloads import active_visit
from requests_app.services import customer_for_contact
from requests_app.states import Status
from requests_app.tracking import LinkExpired, request_for_token, tracking_token
from technicians.models import Visit


@ratelimit(key="ip", rate=portal_rate, method="POST", block=True)
def new_request(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    tenant_enter(tenant.pk)
    timezone.activate(tenant.zone)
    form = PortalRequestForm(request.POST or None, region=tenant.phone_region)
    offers, chosen = [], None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        point = _location(tenant, data)
        emergency = request.POST.get("action") == "emergency"
        if point is None:
            form.add_error(
                "address", _("Share your location, or give your account number and phone.")
            )
        elif emergency or request.POST.get("action") == "book":
            chosen = parse_window(request.POST.get("window", ""))
            if emergency or chosen:
                created = _create(tenant, data, point, None if emergency else chosen, form)
                if created is not None:
                    return redirect("portal-track", token=tracking_token(created))
            else:
                form.add_error(None, _("Choose an arrival window."))
        if point is not None:
            offers = offers_for(tenant, point=point, minutes=form.minutes)
            if not offers:
                form.add_error(
                    None, _("No arrival window is free in the coming days. Please call us.")
                )
    return render(
        request,
        "intake/portal_new.html",
        {
            "tenant": tenant,
            "form": form,
            "days": by_day(offers, tenant),
            "chosen": request.POST.get("window", ""),
        },
    )


def _location(tenant: Tenant, data: dict):
    if data.get("lat") is not None and data.get("lon") is not None:
        return (data["lat"], data["lon"])
    if data.get("account_number"):
        known = (
            Customer.objects.for_tenant(tenant)
            .filter(account_number=data["account_number"], phone=data["phone"])
            .exclude(lat=None)
            .first()
        )
        if known is not None:
            return (known.lat, known.lon)
    return None


def _create(tenant, data, point, window, form) -> ServiceRequest | None:
    customer = customer_for_contact(
        tenant=tenant,
        phone=data["phone"],
        email=data.get("email", ""),
        name=data["name"],
        address=data["address"],
        lat=point[0],
        lon=point[1],
        account_number=data.get("account_number", ""),
        language=get_language() or "",  # the page's: later messages go in it too
    )
    emergency = window is None
    try:
        return request_create(
            tenant=tenant,
            customer=customer,
            kind=ServiceRequest.Kind.EMERGENCY if emergency else ServiceRequest.Kind.PLANNED,
            category=ServiceRequest.Category.OUTAGE if emergency else data["category"],
            channel=ServiceRequest.Channel.WEB,
            description=data.get("description", ""),
            lat=point[0],
            lon=point[1],
            address=data["address"],
            estimated_minutes=60 if emergency else CATEGORY_MINUTES.get(data["category"], 60),
            window=window,
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return None


# Reading is limited too: a link is a key, and keys must not be tried by the thousand.
@ratelimit(key="ip", rate=portal_rate, block=True)
def track(request: HttpRequest, token: str) -> HttpResponse:
    try:
        service_request = request_for_token(token)
    except LinkExpired as expired:
        context = {"sr": expired.service_request}
        return render(request, "intake/link_expired.html", context, status=410)
    except NotFound:
        raise Http404 from None
    tenant = service_request.tenant
    tenant_enter(tenant.pk)
    timezone.activate(tenant.zone)
    may_change = customer_may_change(service_request)
    if request.method == "POST" and may_change:
        action = request.POST.get("action")
        try:
            if action == "cancel":
                request_cancel(
                    service_request=service_request, reason=_("Cancelled by the customer")
                )
                messages.success(request, _("Your request is cancelled."))
                return redirect(request.path)
            if action == "reschedule":
                window = parse_window(request.POST.get("window", ""))
                if window is None:
                    messages.error(request, _("Choose an arrival window."))
                else:
                    request_reschedule(
                        service_request=service_request,
                        window=window,
                        reason=_("Changed by the customer"),
                    )
                    messages.success(request, _("Your new arrival window is booked."))
                    return redirect(request.path)
        except DomainError as error:
            messages.error(request, error.message)
    visit = active_visit(service_request)
    offers = []
    if may_change and request.GET.get("change") == "1":
        offers = offers_for(
            tenant,
            point=(service_request.lat, service_request.lon),
            minutes=service_request.estimated_minutes,
            skills=service_request.required_skills.values_list("code", flat=True),
            current=service_request.window_start,
        )
    return render(
        request,
        "intake/track.html",
        {
            "tenant": tenant,
            "sr": service_request,
            "technician_name": _technician_first_name(visit),
            "visit": visit,
            "may_change": may_change,
            "days": by_day(offers, tenant),
            "changing": request.GET.get("change") == "1",
            "steps": _steps(service_request),
        },
    )


def _technician_first_name(visit: Visit | None) -> str:
    """Shown once the technician is really coming: accepted, on the way, or planned today."""
    if visit is None:
        return ""
    today = timezone.localdate()
    coming = (
        visit.status != Visit.Status.SCHEDULED or timezone.localdate(visit.planned_start) == today
    )
    return visit.technician.user.first_name if coming else ""


def _steps(service_request: ServiceRequest) -> list[tuple[str, bool]]:
    order = [Status.NEW, Status.ASSIGNED, Status.EN_ROUTE, Status.ON_SITE, Status.COMPLETED]
    reached = {change.to_status for change in service_request.status_changes.all()}
    return [(str(Status(step).label), step in reached) for step in order]
