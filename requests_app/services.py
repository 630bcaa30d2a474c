"""Writes on service requests. Every channel (API, pages, webhooks, tasks) calls these."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import Tenant, User
from dispatch.errors import DomainError
from dispatch.events import Change, event_emit, events_emit
from notifications.models import Notification
from notifications.services import notification_enqueue, notifications_enqueue
from requests_app.models import Customer, ServiceRequest, StatusChange
from requests_app.payloads import active_visit, request_payload
from requests_app.states import Status, check_transition
from technicians.models import Skill

DEFAULT_PRIORITY = {ServiceRequest.Kind.EMERGENCY: 1, ServiceRequest.Kind.PLANNED: 3}


def request_changed(*, request: ServiceRequest, kind: str = "request.updated", visit=None) -> None:
    """Emit the live event for a request; technicians hear about their own jobs. Pass the live
    visit when the caller holds it, to save reading it again."""
    visit = visit or active_visit(request)
    event_emit(
        tenant_id=request.tenant_id,
        kind=kind,
        payload=request_payload(request, visit),
        technician_id=visit.technician_id if visit else None,
    )


@transaction.atomic
def customer_for_contact(
    *,
    tenant: Tenant,
    phone: str = "",
    email: str = "",
    name: str = "",
    address: str = "",
    lat: float | None = None,
    lon: float | None = None,
    account_number: str = "",
) -> Customer:
    """The customer a contact comes from: by account number and phone, then by phone, then by
    e-mail; a new customer otherwise. A known customer's registered address is kept."""
    customers = Customer.objects.for_tenant(tenant).select_for_update()
    found = None
    if account_number and phone:
        found = customers.filter(account_number=account_number, phone=phone).first()
    if found is None and phone:
        found = customers.filter(phone=phone).order_by("pk").first()
    if found is None and email:
        found = customers.filter(email__iexact=email).order_by("pk").first()
    if found is not None:
        if found.lat is None and lat is not None:
            found.lat, found.lon, found.address = lat, lon, address or found.address
            found.save(update_fields=["lat", "lon", "address"])
        return found
    return Customer.objects.create(
        tenant=tenant,
        name=name or phone or email,
        phone=phone,
        email=email,
        address=address,
        lat=lat,
        lon=lon,
    )


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
    `reserve=False` records a window agreed elsewhere (imports, simulations) without booking."""
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
    # Imported here: these build on this module.
    from dispatch import tasks
    from dispatch.engine.windows import window_reserve
    from requests_app.incidents import incident_link

    visit = None
    request.active_visits = []  # a new request has no visit yet (as `with_active_visit` reads)
    if emergency:
        incident_link(request=request)
        tasks.assign_request.delay_on_commit(request_id=request.pk)
    elif window is not None:
        if reserve:
            skill_codes = frozenset(skill.code for skill in skills)
            visit = window_reserve(request=request, skills=skill_codes, emit=False)
            request_confirm_window(request=request)
        day = timezone.localdate(window[0], timezone=tenant.zone)
        transaction.on_commit(lambda: tasks.replan_soon(tenant_id=tenant.pk, day=day))
    # One live event, last: it carries the request as booked, and the tenant's event counter
    # (a row lock until commit) is taken as late as possible, so bookings overlap.
    request.active_visits = [visit] if visit else []
    request_changed(request=request, kind="request.created", visit=visit)
    return request


def customer_message(
    request: ServiceRequest, *, body: str, kind: str, dedupe_key: str, tenant: Tenant | None = None
) -> dict:
    """A message to the request's customer (by SMS when they have a phone, else e-mail, headed
    with the request's number in the tenant's language), as the keyword arguments of
    `notification_enqueue`. Pass the request's `tenant` when the caller holds it."""
    customer = request.customer
    with override((tenant or request.tenant).language):
        subject = _("Your appointment %(number)s") % {"number": request.number}
    return {
        "tenant_id": request.tenant_id,
        "channel": Notification.Channel.SMS if customer.phone else Notification.Channel.EMAIL,
        "recipient": customer.phone or customer.email,
        "subject": subject,
        "body": body,
        "kind": kind,
        "dedupe_key": dedupe_key,
        "request": request,
    }


def request_confirm_window(*, request: ServiceRequest) -> None:
    """Put the agreed window in writing to the customer, with their tracking link."""
    from requests_app.tracking import tracking_url

    tenant = request.tenant
    with override(tenant.language), timezone.override(tenant.zone):
        start = timezone.localtime(request.window_start)
        body = _(
            "%(tenant)s: your visit %(number)s is booked for %(day)s between %(start)s and "
            "%(end)s. Track or change it: %(link)s"
        ) % {
            "tenant": tenant.name,
            "number": request.number,
            "day": formats.date_format(start, "SHORT_DATE_FORMAT"),
            "start": formats.time_format(start, "H:i"),
            "end": formats.time_format(timezone.localtime(request.window_end), "H:i"),
            "link": tracking_url(request),
        }
    notification_enqueue(
        **customer_message(
            request,
            body=body,
            kind="window_booked",
            dedupe_key=f"window-booked:{request.pk}:{request.window_start.isoformat()}",
        )
    )


def request_transition(
    *,
    request: ServiceRequest,
    to: str,
    actor: User | None = None,
    reason: str = "",
    emit: bool = True,
) -> ServiceRequest:
    """Move a request along the state machine and record who did it and why."""
    # Refused before any write, so the caller's transaction stays usable; the writes take no
    # savepoint of their own (this runs inside most changes: a failed write fails the change).
    check_transition(request.status, to)
    with transaction.atomic(savepoint=False):
        previous = request.status
        request.status = to
        request.save(update_fields=["status", "updated_at"])
        StatusChange.objects.create(
            tenant_id=request.tenant_id,
            request=request,
            from_status=previous,
            to_status=to,
            actor=actor,
            reason=reason[:300],
        )
        if emit:
            request_changed(request=request)
    return request


@transaction.atomic
def request_flag_window_risk(*, request: ServiceRequest, visit=None) -> None:
    """The plan can no longer keep the agreed window: alert dispatchers and tell the customer
    (with the new expected arrival when a visit still has one). Without an agreed window (an
    emergency) there is no promise to break: screens just see the new time."""
    requests_flag_window_risk([(request, visit)])


def requests_flag_window_risk(
    flagged: list[tuple[ServiceRequest, object]], *, changes: Iterable[Change] = ()
) -> None:
    """`request_flag_window_risk` for several requests of one tenant in one go: one update,
    one batch of live events (with the caller's other `changes`), one insert of the customers'
    messages. Inside the caller's transaction."""
    if not flagged:
        return
    changes, first_times = list(changes), []
    for request, visit in flagged:
        visit = visit or active_visit(request)
        technician_id = visit.technician_id if visit else None
        if request.window_end is None:
            changes.append(
                Change("request.updated", request_payload(request, visit), technician_id)
            )
            continue
        if not request.window_at_risk:
            first_times.append((request, visit))
        request.window_at_risk = True
        changes.append(
            Change("request.window_at_risk", request_payload(request, visit), technician_id)
        )
    now = timezone.now()
    at_risk = [request.pk for request, _ in flagged if request.window_end is not None]
    if at_risk:
        ServiceRequest.objects.filter(pk__in=at_risk).update(window_at_risk=True, updated_at=now)
    events_emit(tenant_id=flagged[0][0].tenant_id, changes=changes)
    if first_times:
        tenant = first_times[0][0].tenant  # one tenant's language and time zone for all
        with override(tenant.language), timezone.override(tenant.zone):
            messages = [_late_message(request, visit, tenant) for request, visit in first_times]
        notifications_enqueue(messages)


def _late_message(request: ServiceRequest, visit, tenant: Tenant) -> dict:
    """The customer's message, in the tenant's language and time zone (the caller's)."""
    if visit is None:
        body = _(
            "%(tenant)s: we are sorry, we cannot keep the agreed time for %(number)s. "
            "Reply 2 to choose another time."
        ) % {"tenant": tenant.name, "number": request.number}
    else:
        body = _(
            "%(tenant)s: we are sorry, the technician for %(number)s will be late. New "
            "expected arrival: %(time)s. Reply 2 to choose another time."
        ) % {
            "tenant": tenant.name,
            "number": request.number,
            "time": formats.time_format(timezone.localtime(visit.planned_start), "H:i"),
        }
    return customer_message(
        request,
        body=body,
        kind="window_at_risk",
        dedupe_key=f"window-risk:{request.pk}:{request.window_end.isoformat()}",
        tenant=tenant,
    )
