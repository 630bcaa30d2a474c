"""The contact center's pages: the operator's queue, one contact's screen (the client it is for
in its colour and name, the conversation, reply, the customer, a request in one step), the
supervisor's queues per client, and a message's attachment. Each page reads and writes through
the selectors and services the API uses."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import role_required, tenants_served
from contacts import services
from contacts.kpi_selectors import contact_kpis
from contacts.models import Contact, ContactMessage, OperatorProfile
from contacts.selectors import (
    CONTACT_ROLES,
    OPERATOR_ROLES,
    SUPERVISOR_ROLES,
    contact_payload,
    get_contact_for_user,
    messages_of,
    operators_for,
    profile_for,
    queue_for,
)
from core.errors import DomainError, NotFound
from intake.forms import CATEGORY_MINUTES
from intake.windows import by_day, offers_for, parse_window
from reports.api import KpiQuerySerializer
from reports.selectors import REPORT_ROLES, kpi_filter_for, report_tenant_for_user
from requests_app.models import ServiceRequest

EMERGENCY_CATEGORIES = (ServiceRequest.Category.OUTAGE, ServiceRequest.Category.REPAIR)
PLANNED_CATEGORIES = (
    ServiceRequest.Category.REPAIR,
    ServiceRequest.Category.INSTALLATION,
    ServiceRequest.Category.RELOCATION,
    ServiceRequest.Category.MAINTENANCE,
    ServiceRequest.Category.OTHER,
)


def _live_config(request: HttpRequest, **more) -> dict:
    return {"ws_url": settings.WS_PUBLIC_URL, **more}


@role_required(*CONTACT_ROLES)
def queue(request: HttpRequest) -> HttpResponse:
    """The operator's queue: the open contacts of their clients, take next, presence."""
    user = request.user
    if request.method == "POST":
        if not user.has_role(*OPERATOR_ROLES):
            raise PermissionDenied
        action = request.POST.get("action")
        if action == "take":
            contact = services.contact_take_next(operator=user)
            if contact is None:
                messages.info(request, _("No contact is waiting for you."))
                return redirect("contacts-queue")
            return redirect("contacts-contact", pk=contact.pk)
        if action == "presence":
            try:
                services.presence_set(user=user, presence=request.POST.get("presence", ""))
            except DomainError as error:
                messages.error(request, error.message)
            return redirect("contacts-queue")
    served = tenants_served(user)
    tenant_id = _int(request.GET.get("client"))
    if tenant_id is not None and tenant_id not in {t.pk for t in served}:
        tenant_id = None
    contacts = queue_for(user, tenant_id=tenant_id, limit=100)
    profile = profile_for(user)
    return render(
        request,
        "contacts/queue.html",
        {
            "served": served,
            "client": tenant_id,
            "contacts": contacts,
            "rows": [contact_payload(c) for c in contacts],
            "presence": profile.presence if profile else OperatorProfile.Presence.AWAY,
            "presences": OperatorProfile.Presence.choices,
            "may_take": user.has_role(*OPERATOR_ROLES),
            "live": _live_config(request, client=tenant_id),
            "text": _text(),
        },
    )


@role_required(*CONTACT_ROLES)
def contact_page(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        contact = get_contact_for_user(request.user, pk, full=True)
    except NotFound:
        raise Http404 from None
    tenant = contact.tenant
    timezone.activate(tenant.zone)
    days, chosen, category = [], "", ""
    if request.method == "POST":
        if not request.user.has_role(*OPERATOR_ROLES):
            raise PermissionDenied
        outcome = _act(request, contact)
        if isinstance(outcome, HttpResponse):
            return outcome
        days, chosen, category = outcome
        contact = get_contact_for_user(request.user, pk, full=True)
    return render(
        request,
        "contacts/contact.html",
        {
            "contact": contact,
            "client": tenant,
            "conversation": messages_of(contact),
            "statuses": Contact.Status.choices,
            "emergency_categories": [(c.value, c.label) for c in EMERGENCY_CATEGORIES],
            "planned_categories": [(c.value, c.label) for c in PLANNED_CATEGORIES],
            "days": days,
            "chosen": chosen,
            "category": category,
            "may_act": request.user.has_role(*OPERATOR_ROLES),
            "live": _live_config(
                request,
                contact=contact.pk,
                seq=contact.message_seq,
                client=tenant.pk,
                time_zone=tenant.time_zone,
            ),
            "text": _text(),
        },
    )


def _act(request: HttpRequest, contact: Contact):
    """One action of the contact screen: a redirect when done, else the window offers to show."""
    post, user = request.POST, request.user
    action = post.get("action")
    here = redirect("contacts-contact", pk=contact.pk)
    try:
        if action == "reply":
            services.contact_reply(contact=contact, author=user, body=post.get("body", ""))
            return here
        if action == "note":
            services.message_add(
                contact=contact,
                direction=ContactMessage.Direction.NOTE,
                body=post.get("body", ""),
                author=user,
            )
            return here
        if action == "status":
            services.status_set(contact=contact, status=post.get("status", ""), actor=user)
            return here
        if action == "identify":
            value = post.get("value", "").strip()
            found = services.contact_match_customer(
                contact=contact,
                phone=value if value[:1] in "+8" or (value.isdigit() and len(value) >= 10) else "",
                account_number="" if value[:1] in "+8" or len(value) >= 10 else value,
                actor=user,
            )
            if found is None:
                messages.error(request, _("No customer of this client matches."))
            return here
        if action == "emergency":
            created = services.contact_request_create(
                contact=contact,
                actor=user,
                kind=ServiceRequest.Kind.EMERGENCY,
                category=_choice(post.get("category"), EMERGENCY_CATEGORIES),
                description=post.get("description", "")[:2000],
            )
            messages.success(request, _("%(number)s created.") % {"number": created.number})
            return here
        if action in ("find", "book"):
            category = _choice(post.get("category"), PLANNED_CATEGORIES)
            minutes = CATEGORY_MINUTES.get(category, 60)
            if action == "book":
                window = parse_window(post.get("window", ""))
                if window is None:
                    raise DomainError(_("Choose an arrival window."))
                created = services.contact_request_create(
                    contact=contact,
                    actor=user,
                    kind=ServiceRequest.Kind.PLANNED,
                    category=category,
                    description=post.get("description", "")[:2000],
                    estimated_minutes=minutes,
                    window=window,
                )
                messages.success(request, _("%(number)s created.") % {"number": created.number})
                return here
            customer = contact.customer
            if customer is None or customer.lat is None:
                raise DomainError(_("Identify the customer first."))
            offers = offers_for(contact.tenant, point=(customer.lat, customer.lon), minutes=minutes)
            if not offers:
                messages.error(request, _("No arrival window is free in the coming days."))
            return by_day(offers, contact.tenant), post.get("window", ""), category
    except DomainError as error:
        messages.error(request, error.message)
        return here
    return here


@role_required(*SUPERVISOR_ROLES)
def supervisor(request: HttpRequest) -> HttpResponse:
    """Every client's queue side by side, live, with the operators and a reassign per row."""
    user = request.user
    served = tenants_served(user)
    if request.method == "POST":
        try:
            contact = get_contact_for_user(user, _int(request.POST.get("contact")) or 0)
            operator_id = _int(request.POST.get("operator"))
            operator = None
            if operator_id is not None:
                operator = next(
                    (o for o in operators_for(contact.tenant_id) if o.pk == operator_id), None
                )
                if operator is None:
                    raise DomainError(_("No such operator."))
            services.contact_assign(contact=contact, operator=operator, actor=user)
            messages.success(request, _("%(number)s reassigned.") % {"number": contact.number})
        except DomainError as error:
            messages.error(request, error.message)
        return redirect("contacts-supervisor")
    clients = []
    for tenant in served:
        contacts = queue_for(user, tenant_id=tenant.pk, limit=100)
        clients.append(
            {
                "tenant": tenant,
                "contacts": contacts,
                "operators": operators_for(tenant.pk),
                "waiting": sum(1 for c in contacts if c.status == Contact.Status.NEW),
            }
        )
    profiles = {
        p.user_id: p for p in OperatorProfile.objects.filter(user__in=_all_operators(clients))
    }
    away = OperatorProfile.Presence.AWAY.label
    for client in clients:
        client["presence"] = [
            (o, profiles[o.pk].get_presence_display() if o.pk in profiles else away)
            for o in client["operators"]
        ]
    return render(
        request,
        "contacts/supervisor.html",
        {
            "clients": clients,
            "live": _live_config(request),
            "text": _text(),
        },
    )


def _all_operators(clients: list[dict]) -> list[User]:
    return list({o.pk: o for c in clients for o in c["operators"]}.values())


@role_required(*CONTACT_ROLES)
def attachment(request: HttpRequest, pk: int, seq: int) -> HttpResponse:
    """A message's file, for those who may see the contact (never from a public address)."""
    try:
        contact = get_contact_for_user(request.user, pk)
    except NotFound:
        raise Http404 from None
    message = ContactMessage.objects.filter(contact=contact, seq=seq).first()
    if message is None or not message.attachment:
        raise Http404
    response = FileResponse(message.attachment.open("rb"), content_type=message.attachment_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _choice(value, allowed) -> str:
    return value if value in {c.value for c in allowed} else allowed[0].value


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _text() -> dict:
    """What the pages' scripts say."""
    return {
        "live": _("live"),
        "offline": _("reconnecting…"),
        "statuses": dict(Contact.Status.choices),
        "channels": dict(Contact.Channel.choices),
        "customer": _("Customer"),
        "open": _("Open"),
        "unassigned": _("unassigned"),
        "attachment": _("attachment"),
        "contact_url": reverse("contacts-contact", kwargs={"pk": 0}),
    }


@role_required(*REPORT_ROLES)
def contact_report(request: HttpRequest) -> HttpResponse:
    """The contact-center view of the reports: the figures of `contacts.kpi_selectors` for a
    client and a period, beside the previous period of the same length."""
    query = KpiQuerySerializer(data=request.GET)
    if not query.is_valid():
        first = next(iter(query.errors.values()))
        return render(request, "contacts/report.html", {"error": first[0]}, status=400)
    data = query.validated_data
    try:
        tenant = report_tenant_for_user(request.user, data.get("tenant"))
    except NotFound:
        raise Http404 from None
    f = kpi_filter_for(tenant=tenant, first=data["start"], last=data["end"])
    before = f.previous()
    return render(
        request,
        "contacts/report.html",
        {
            "client": tenant,
            "tenants": tenants_served(request.user),
            "start": data["start"],
            "end": data["end"],
            "now": contact_kpis(tenant_id=tenant.pk, start=f.start, end=f.end),
            "before": contact_kpis(tenant_id=tenant.pk, start=before.start, end=before.end),
            "channels": dict(Contact.Channel.choices),
        },
    )
