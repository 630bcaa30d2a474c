"""The operator console: a caller on the line → which client the call is for, who the caller
is, what they reported before, and a planned visit booked in a window or an emergency raised
in one click. The tenant comes from the number the caller dialled (a CTI screen-pop passes it
as `dialled`) or, for a typed-in call, from the operator's choice among the clients they
serve."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ContactPoint, Tenant
from accounts.permissions import INTAKE_ROLES, role_required, tenants_served
from core.errors import DomainError
from core.phones import phone_checked
from intake.contacts import (
    customer_by_phone,
    normalize_phone,
    recent_requests,
    tenant_for_contact,
)
from intake.forms import NewCustomerForm, PlannedRequestForm
from intake.windows import by_day, offers_for, parse_window
from requests_app.booking import request_create
from requests_app.models import ServiceRequest
from requests_app.selectors import with_active_visit
from requests_app.services import customer_for_contact
from requests_app.states import CLOSED

EMERGENCY_CATEGORIES = [
    ServiceRequest.Category.OUTAGE,
    ServiceRequest.Category.REPAIR,
]


@role_required(*INTAKE_ROLES)
def console(request: HttpRequest) -> HttpResponse:
    served = tenants_served(request.user)
    params = request.POST if request.method == "POST" else request.GET
    tenant = _call_tenant(request, served, params)
    typed = params.get("phone", "").strip()
    phone, phone_error = "", ""
    if typed:
        try:
            phone = phone_checked(typed, region=tenant.phone_region if tenant else None)
        except ValidationError as error:
            phone_error = error.messages[0]
    call = _call_started(params, phone, tenant.phone_region if tenant else None)
    context = {
        "served": served,
        "tenant": tenant,
        "call": int(call.timestamp()),
        "phone": phone or typed,
        "phone_error": phone_error,
        "dialled": params.get("dialled", ""),
        "emergency_categories": [(c.value, c.label) for c in EMERGENCY_CATEGORIES],
    }
    if tenant is None or not phone:
        return render(request, "intake/console.html", context)
    timezone.activate(tenant.zone)
    customer = customer_by_phone(tenant, phone)
    action = request.POST.get("action") if request.method == "POST" else None
    if customer is None:
        form = NewCustomerForm(
            request.POST if action == "register" else None, initial={"phone": phone}
        )
        if action == "register" and form.is_valid():
            customer_for_contact(tenant=tenant, **form.cleaned_data | {"phone": phone})
            messages.success(request, _("Customer registered."))
            return redirect(_here(tenant, phone, params))
        return render(request, "intake/console.html", {**context, "new_customer_form": form})

    form = PlannedRequestForm(request.POST if action in ("find", "book") else None)
    offers = []
    if action == "emergency":
        created = _create(request, tenant, customer, emergency=True)
        if created is not None:
            return redirect(_here(tenant, phone, params))
    elif action in ("find", "book") and form.is_valid():
        if action == "book":
            window = parse_window(request.POST.get("window", ""))
            if window is None:
                form.add_error(None, _("Choose an arrival window."))
            elif _create(request, tenant, customer, form=form, window=window) is not None:
                return redirect(_here(tenant, phone, params))
        offers = offers_for(tenant, point=(customer.lat, customer.lon), minutes=form.minutes)
        if not offers:
            form.add_error(None, _("No arrival window is free in the coming days."))
    history = recent_requests(customer, now=call)
    requests = list(
        with_active_visit(
            ServiceRequest.objects.for_tenant(tenant).filter(customer=customer)
        ).order_by("-created_at")[:20]
    )
    return render(
        request,
        "intake/console.html",
        {
            **context,
            "customer": customer,
            "repeat": len(history),
            "open_requests": [r for r in requests if r.status not in CLOSED],
            "past_requests": [r for r in requests if r.status in CLOSED][:10],
            "form": form,
            "days": by_day(offers, tenant),
            "chosen": request.POST.get("window", ""),
        },
    )


def _call_tenant(request, served: list[Tenant], params) -> Tenant | None:
    dialled = params.get("dialled", "")
    if dialled:
        tenant = tenant_for_contact(ContactPoint.Kind.PHONE, dialled)
        if tenant is None:
            messages.error(request, _("No client is known for the number %(n)s.") % {"n": dialled})
            return None
    elif params.get("tenant"):
        tenant = next((t for t in served if t.slug == params["tenant"]), None)
    else:
        tenant = served[0] if len(served) == 1 else None
    if tenant is not None and tenant not in served:
        raise PermissionDenied(_("You do not answer calls for this client."))
    return tenant


def _create(request, tenant, customer, *, emergency=False, form=None, window=None):
    try:
        if emergency:
            created = request_create(
                tenant=tenant,
                customer=customer,
                kind=ServiceRequest.Kind.EMERGENCY,
                category=_emergency_category(request.POST.get("category")),
                channel=ServiceRequest.Channel.PHONE,
                description=request.POST.get("description", "")[:2000],
                actor=request.user,
            )
        else:
            created = request_create(
                tenant=tenant,
                customer=customer,
                kind=ServiceRequest.Kind.PLANNED,
                category=form.cleaned_data["category"],
                channel=ServiceRequest.Channel.PHONE,
                description=form.cleaned_data["description"],
                estimated_minutes=form.minutes,
                window=window,
                actor=request.user,
            )
    except DomainError as error:
        if form is not None:
            form.add_error(None, error.message)
        else:
            messages.error(request, error.message)
        return None
    messages.success(
        request,
        _("%(number)s created for %(tenant)s.") % {"number": created.number, "tenant": tenant},
    )
    return created


def _emergency_category(value) -> str:
    allowed = {category.value for category in EMERGENCY_CATEGORIES}
    return value if value in allowed else ServiceRequest.Category.OUTAGE


def _call_started(params, phone: str, region: str | None) -> datetime:
    """When the call began: carried through the console's forms and redirects (epoch seconds),
    so the requests taken during this call do not make it a repeat contact. Looking up another
    number begins another call."""
    now = timezone.now()
    if params.get("call_phone") and normalize_phone(params["call_phone"], region=region) != phone:
        return now
    try:
        started = datetime.fromtimestamp(int(params.get("call", "")), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return now
    return started if now - timedelta(hours=12) <= started <= now else now


def _here(tenant: Tenant, phone: str, params) -> str:
    query = {"tenant": tenant.slug, "phone": phone, "call": params.get("call", "")}
    if params.get("dialled"):
        query["dialled"] = params["dialled"]
    return f"{reverse('console')}?{urlencode(query)}"
