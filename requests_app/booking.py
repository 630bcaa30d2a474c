"""Taking a request in with its promise, and changing the promise: create (booking the agreed
window against real capacity), reschedule to another window, cancel, and what customers may
change.

Every channel (API, operator console, portal, e-mail, SMS and IVR) calls these. The agreed
window lives on the request; the visit holding capacity for it is released and a new one booked
in the same transaction, so a failed booking leaves the old promise as it was.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import Tenant, User
from core import followups
from core.errors import Conflict, DomainError, IllegalTransition
from dispatch.windows import window_reserve
from notifications.services import notification_enqueue
from requests_app.incidents import incident_link, open_emergency_at, request_report_again
from requests_app.models import Customer, ServiceRequest, StatusChange
from requests_app.services import (
    customer_language,
    customer_message,
    request_changed,
    request_check_version,
    request_confirm_window,
    request_noted,
    request_transition,
)
from requests_app.states import CLOSED, Status
from requests_app.tracking import tracking_url
from technicians.models import Skill, Visit

DEFAULT_PRIORITY = {ServiceRequest.Kind.EMERGENCY: 1, ServiceRequest.Kind.PLANNED: 3}

# A visit the technician has started cannot be moved or called off from the office.
STARTED = (Visit.Status.ON_SITE,)


@transaction.atomic
def request_create(
    *,
    tenant: Tenant,
    customer: Customer,
    kind: str,
    category: str,
    channel: str,
    description: str = "",
    lat: float | None = None,
    lon: float | None = None,
    address: str = "",
    skills: Iterable[Skill] = (),
    estimated_minutes: int = 60,
    window: tuple[datetime, datetime] | None = None,
    priority: int | None = None,
    actor: User | None = None,
    reserve: bool = True,
) -> ServiceRequest:
    """Take in a request from any channel. A planned request with a window is booked there
    against real capacity (Conflict when the window is full) and the customer gets the promise
    in writing; an emergency is linked to its outage and assigned within seconds after commit.
    `reserve=False` records a window agreed elsewhere (imports, simulations) without booking.

    An emergency the customer already reported at the same place, still open, is not opened
    twice: the report is recorded on it and that request returned, with `joined` True (False
    on a request created here)."""
    for field, value, choices in (
        ("kind", kind, ServiceRequest.Kind),
        ("category", category, ServiceRequest.Category),
        ("channel", channel, ServiceRequest.Channel),
    ):
        if value not in choices.values:
            raise DomainError(
                _("“%(value)s” is not a valid choice.") % {"value": value}, field=field
            )
    if customer.tenant_id != tenant.pk:
        raise DomainError(_("The customer belongs to another client."), field="customer")
    skills = list(skills)
    if any(skill.tenant_id != tenant.pk for skill in skills):
        raise DomainError(_("A skill belongs to another client."), field="required_skills")
    lat = customer.lat if lat is None else lat
    lon = customer.lon if lon is None else lon
    if lat is None or lon is None:
        raise DomainError(_("The location is unknown: give coordinates."), field="lat")
    if window is not None and window[1] <= window[0]:
        raise DomainError(_("The window must end after it starts."), field="window_end")

    now = timezone.now()
    emergency = kind == ServiceRequest.Kind.EMERGENCY
    if emergency:
        place = address or customer.address
        earlier = open_emergency_at(customer=customer, lat=lat, lon=lon, address=place)
        if earlier is not None:
            return request_report_again(
                request=earlier, channel=channel, description=description, actor=actor
            )
    request = ServiceRequest.objects.create(
        tenant=tenant,
        customer=customer,
        kind=kind,
        category=category,
        channel=channel,
        description=description,
        lat=lat,
        lon=lon,
        address=address or customer.address,
        estimated_minutes=estimated_minutes,
        window_start=window[0] if window else None,
        window_end=window[1] if window else None,
        priority=priority or DEFAULT_PRIORITY[kind],
        response_due=now + timedelta(minutes=tenant.response_sla_minutes)
        if emergency
        else (window[1] if window else None),
        restoration_due=now + timedelta(minutes=tenant.restoration_sla_minutes)
        if emergency
        else None,
        created_by=actor,
    )
    if skills:  # a new request: no existing links to compare with
        ServiceRequest.required_skills.through.objects.bulk_create(
            ServiceRequest.required_skills.through(servicerequest=request, skill=skill)
            for skill in skills
        )
    StatusChange.objects.create(
        tenant=tenant,
        request=request,
        from_status="",
        to_status=Status.NEW,
        actor=actor,
        reason=_("Received via %(channel)s") % {"channel": request.get_channel_display()},
    )
    visit = None
    request.active_visits = []  # a new request has no visit yet (as `with_active_visit` reads)
    if emergency:
        incident_link(request=request)
        followups.enqueue_on_commit(followups.ASSIGN_REQUEST, request_id=request.pk)
    elif window is not None:
        if reserve:
            skill_codes = frozenset(skill.code for skill in skills)
            visit = window_reserve(request=request, skills=skill_codes, emit=False)
            request_confirm_window(request=request)
        day = timezone.localdate(window[0], timezone=tenant.zone)
        followups.replan_soon(tenant_id=tenant.pk, day=day)
    # One live event, last: it carries the request as booked, and the tenant's event counter
    # (a row lock until commit) is taken as late as possible, so bookings overlap.
    request.active_visits = [visit] if visit else []
    request_changed(request=request, kind="request.created", visit=visit)
    request.joined = False
    return request


def _locked(request: ServiceRequest) -> ServiceRequest:
    return (
        ServiceRequest.objects.select_for_update()
        .select_related("tenant", "customer")
        .get(pk=request.pk)
    )


def _release_visit(request: ServiceRequest) -> None:
    visit = Visit.objects.select_for_update().filter(request=request, status__in=Visit.ACTIVE)
    visit = visit.first()
    if visit is None:
        return
    if visit.status in STARTED:
        raise IllegalTransition(_("The technician is already on site."))
    visit.status = Visit.Status.CANCELLED
    visit.save(update_fields=["status", "updated_at"])


def _window_text(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return _("no window")
    start, end = timezone.localtime(start), timezone.localtime(end)
    day = formats.date_format(start, "SHORT_DATE_FORMAT")
    return f"{day} {formats.time_format(start, 'H:i')}–{formats.time_format(end, 'H:i')}"


@transaction.atomic
def request_reschedule(
    *,
    service_request: ServiceRequest,
    window: tuple[datetime, datetime],
    actor: User | None = None,
    reason: str = "",
    version: int | None = None,
) -> ServiceRequest:
    """Move the agreed window, booked against capacity like a new one (Conflict when full)."""
    service_request = _locked(service_request)
    request_check_version(service_request, version)
    if service_request.kind != ServiceRequest.Kind.PLANNED:
        raise DomainError(_("Only planned visits have an arrival window."), field="window_start")
    if service_request.status in CLOSED or service_request.status == Status.ON_SITE:
        raise IllegalTransition(_("This request can no longer be rescheduled."))
    if window[1] <= window[0]:
        raise DomainError(_("The window must end after it starts."), field="window_end")
    if window[1] <= timezone.now():
        raise DomainError(_("The window is already over."), field="window_start")
    old_day = service_request.window_start
    with timezone.override(service_request.tenant.zone):
        note = _("Window %(old)s → %(new)s") % {
            "old": _window_text(service_request.window_start, service_request.window_end),
            "new": _window_text(*window),
        }
    note = f"{note}: {reason}" if reason else note
    _release_visit(service_request)
    service_request.window_start, service_request.window_end = window
    service_request.response_due = window[1]
    service_request.window_at_risk = False
    service_request.plan_note = ""
    service_request.save(
        update_fields=[
            "window_start",
            "window_end",
            "response_due",
            "window_at_risk",
            "plan_note",
            "updated_at",
        ]
    )
    if service_request.status == Status.RESCHEDULED:  # already waiting for a new time
        request_noted(request=service_request, actor=actor, reason=note)
    else:
        request_transition(request=service_request, to=Status.RESCHEDULED, actor=actor, reason=note)
    window_reserve(request=service_request)
    request_confirm_window(request=service_request)
    tenant = service_request.tenant
    for moment in {old_day, window[0]} - {None}:
        day = timezone.localdate(moment, timezone=tenant.zone)
        followups.replan_soon(tenant_id=tenant.pk, day=day)
    return service_request


@transaction.atomic
def request_cancel(
    *,
    service_request: ServiceRequest,
    actor: User | None = None,
    reason: str = "",
    version: int | None = None,
) -> ServiceRequest:
    service_request = _locked(service_request)
    request_check_version(service_request, version)
    if service_request.status in CLOSED or service_request.status == Status.ON_SITE:
        raise IllegalTransition(_("This request can no longer be cancelled."))
    _release_visit(service_request)
    request_transition(
        request=service_request, to=Status.CANCELLED, actor=actor, reason=reason or _("Cancelled")
    )
    tenant = service_request.tenant
    with override(customer_language(service_request, tenant)):
        body = _("%(tenant)s: your request %(number)s is cancelled.") % {
            "tenant": tenant.name,
            "number": service_request.number,
        }
    notification_enqueue(
        **customer_message(
            service_request,
            body=body,
            kind="request_cancelled",
            dedupe_key=f"request-cancelled:{service_request.pk}",
        )
    )
    return service_request


@transaction.atomic
def request_release(
    *, service_request: ServiceRequest, actor: User, reason: str = "", version: int | None = None
) -> ServiceRequest:
    """A dispatcher lets the engine have a request they held (by unassigning it) again. The
    release is a row like a transition (same status, who and why) and the day is re-planned."""
    service_request = _locked(service_request)
    request_check_version(service_request, version)
    if not service_request.held:
        raise Conflict(_("This request is not held."))
    service_request.held = False
    service_request.save(update_fields=["held", "updated_at"])
    note = _("Released to the planner by %(name)s") % {"name": actor}
    request_noted(
        request=service_request, actor=actor, reason=f"{note}: {reason}" if reason else note
    )
    request_changed(request=service_request)
    _plan_again(service_request)
    return service_request


@transaction.atomic
def request_offer_window(
    *, service_request: ServiceRequest, actor: User, reason: str = "", version: int | None = None
) -> ServiceRequest:
    """A dispatcher asks the customer to pick another arrival window: the customer gets their
    tracking link opened at the choice of windows. The agreed window holds until they pick one
    (`request_reschedule`), so a customer who does not answer still gets the visit agreed."""
    service_request = _locked(service_request)
    request_check_version(service_request, version)
    if not customer_may_change(service_request):
        raise IllegalTransition(
            _("The customer can no longer change this visit by link: call them instead.")
        )
    customer = service_request.customer
    if not (customer.phone or customer.email):
        raise Conflict(_("The customer has no phone or e-mail to send the link to."))
    tenant = service_request.tenant
    with override(customer_language(service_request, tenant)):
        body = _("%(tenant)s: please choose a new arrival time for %(number)s: %(link)s") % {
            "tenant": tenant.name,
            "number": service_request.number,
            "link": tracking_url(service_request) + "?change=1",
        }
    notification_enqueue(
        **customer_message(
            service_request,
            body=body,
            kind="window_offer",
            # One message per offer: the next offer is made on a newer version.
            dedupe_key=f"window-offer:{service_request.pk}:{service_request.version}",
        )
    )
    note = _("New window offered to the customer by %(name)s") % {"name": actor}
    request_noted(
        request=service_request, actor=actor, reason=f"{note}: {reason}" if reason else note
    )
    request_changed(request=service_request)
    return service_request


def _plan_again(service_request: ServiceRequest) -> None:
    """After commit, the engine takes the request up: an emergency is assigned, a planned
    request's day re-planned."""
    if service_request.kind == ServiceRequest.Kind.EMERGENCY:
        followups.enqueue_on_commit(followups.ASSIGN_REQUEST, request_id=service_request.pk)
    elif service_request.window_start is not None:
        day = timezone.localdate(service_request.window_start, service_request.tenant.zone)
        followups.replan_soon(tenant_id=service_request.tenant_id, day=day)


# Open requests without a live visit that a dispatcher may escalate.
ESCALABLE = frozenset({Status.NEW, Status.RESCHEDULED, Status.NOT_COMPLETED})


@transaction.atomic
def request_escalate(
    *,
    service_request: ServiceRequest,
    escalated: bool,
    actor: User,
    reason: str = "",
    version: int | None = None,
) -> ServiceRequest:
    """A dispatcher raises an open request without a visit to the escalated list (it needs a
    person), or takes it off again: back to new, and the engine plans it after commit (its
    failed attempts forgotten, so the reconciler does not escalate it straight back)."""
    service_request = _locked(service_request)
    request_check_version(service_request, version)
    live = Visit.objects.filter(request=service_request, status__in=Visit.ACTIVE).exists()
    if escalated:
        if service_request.status not in ESCALABLE or live:
            raise IllegalTransition(_("Only an open request without a visit can be escalated."))
        note = _("Escalated by %(name)s") % {"name": actor}
        target = Status.ESCALATED
    else:
        if service_request.status != Status.ESCALATED:
            raise IllegalTransition(_("This request is not escalated."))
        note = _("De-escalated by %(name)s") % {"name": actor}
        target = Status.NEW
        service_request.held = False
        service_request.assignment_attempts = 0
        service_request.save(update_fields=["held", "assignment_attempts", "updated_at"])
    request_transition(
        request=service_request,
        to=target,
        actor=actor,
        reason=f"{note}: {reason}" if reason else note,
    )
    if not escalated:
        _plan_again(service_request)
    return service_request


@transaction.atomic
def request_update(
    *,
    service_request: ServiceRequest,
    actor: User | None = None,
    description: str | None = None,
    priority: int | None = None,
    address: str | None = None,
) -> ServiceRequest:
    """Edit what does not move the promise; the window changes through reschedule."""
    service_request = _locked(service_request)
    if service_request.status in CLOSED:
        raise IllegalTransition(_("A closed request cannot be changed."))
    fields = {"description": description, "priority": priority, "address": address}
    changed = [name for name, value in fields.items() if value is not None]
    for name in changed:
        setattr(service_request, name, fields[name])
    if changed:
        service_request.save(update_fields=[*changed, "updated_at"])
        request_changed(request=service_request)
    return service_request


@transaction.atomic
def request_confirm_presence(*, service_request: ServiceRequest) -> ServiceRequest:
    """The customer says they will be there: the technician's day shows it."""
    service_request = (
        ServiceRequest.objects.select_for_update()
        .select_related("tenant", "customer")
        .get(pk=service_request.pk)
    )
    service_request.customer_confirmed_at = timezone.now()
    service_request.save(update_fields=["customer_confirmed_at", "updated_at"])
    request_changed(request=service_request)
    return service_request


def customer_may_change(request: ServiceRequest, *, now: datetime | None = None) -> bool:
    """Customers may move or cancel a planned visit until the tenant's cut-off before it."""
    now = now or timezone.now()
    if request.kind != ServiceRequest.Kind.PLANNED or request.status in CLOSED:
        return False
    if request.status in (Status.EN_ROUTE, Status.ON_SITE):
        return False
    if request.window_start is None or request.status == Status.RESCHEDULED:
        return True  # no time agreed yet, or waiting for a new one
    cutoff = request.window_start - timedelta(hours=request.tenant.change_cutoff_hours)
    return now < cutoff
