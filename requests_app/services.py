"""Writes on service requests that every other write builds on: the state machine, the live
event, and what the customer is told. Taking a request in and changing its promise
(`requests_app.booking`) and the engine call these; every channel calls the same ones."""

from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import Tenant, User
from core.errors import Stale
from core.events import Change, event_emit, events_emit
from notifications.models import Notification
from notifications.services import notification_enqueue, notifications_enqueue
from reports.models import PromiseRisk
from requests_app.models import Customer, ServiceRequest, StatusChange
from requests_app.payloads import active_visit, current_visit, request_payload
from requests_app.states import check_transition
from requests_app.tracking import tracking_url


def requests_version_raise(requests: Iterable[ServiceRequest]) -> None:
    """Every change of a request or its visits raises its version (one statement for them all),
    and the objects in hand carry the new one: clients acting on an older one are refused."""
    by_id = {request.pk: request for request in requests}
    if not by_id:
        return
    # One statement that both raises and returns the versions (`.update()` returns neither).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE requests_app_servicerequest SET version = version + 1 "
            "WHERE id = ANY(%s) RETURNING id, version",
            [list(by_id)],
        )
        for pk, version in cursor.fetchall():
            by_id[pk].version = version


def request_check_version(request: ServiceRequest, version: int | None) -> None:
    """Refuse an action taken on an older version of the request (`version` None: no check).
    Call it with the request read under its row lock."""
    if version is not None and version != request.version:
        raise Stale(extra={"current": request_payload(request, current_visit(request))})


def request_changed(*, request: ServiceRequest, kind: str = "request.updated", visit=None) -> None:
    """Raise the request's version and emit its live event; technicians hear about their own
    jobs. Pass the live visit when the caller holds it, to save reading it again: otherwise it
    is read now (a list prefetched before the change would report the old visit)."""
    visit = visit or current_visit(request)
    requests_version_raise([request])
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
    language: str = "",
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
        if language and found.language != language:  # the one they use with us now
            found.language = language
            found.save(update_fields=["language"])
        return found
    return Customer.objects.create(
        tenant=tenant,
        name=name or phone or email,
        phone=phone,
        email=email,
        address=address,
        lat=lat,
        lon=lon,
        language=language,
    )


def customer_language(request: ServiceRequest, tenant: Tenant | None = None) -> str:
    """The language to write to a request's customer in: the one they last used with us, else
    their client's. Pass the request's `tenant` when the caller holds it."""
    return request.customer.language or (tenant or request.tenant).language


def customer_message(
    request: ServiceRequest, *, body: str, kind: str, dedupe_key: str, tenant: Tenant | None = None
) -> dict:
    """A message to the request's customer (by SMS when they have a phone, else e-mail, headed
    with the request's number in the tenant's language), as the keyword arguments of
    `notification_enqueue`. Pass the request's `tenant` when the caller holds it."""
    customer = request.customer
    with override(customer_language(request, tenant)):
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
    tenant = request.tenant
    with override(customer_language(request, tenant)), timezone.override(tenant.zone):
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


def request_noted(
    *, request: ServiceRequest, reason: str, actor: User | None = None
) -> StatusChange:
    """A change that keeps the status is still a row, with who and why (a window moved while
    waiting for one, a hold released, an emergency reported again)."""
    return StatusChange.objects.create(
        tenant_id=request.tenant_id,
        request=request,
        from_status=request.status,
        to_status=request.status,
        actor=actor,
        reason=reason[:300],
    )


@transaction.atomic
def request_flag_window_risk(*, request: ServiceRequest, visit=None, cause: str = "") -> None:
    """The plan can no longer keep the agreed window: alert dispatchers and tell the customer
    (with the new expected arrival when a visit still has one). Without an agreed window (an
    emergency) there is no promise to break: screens just see the new time. A `cause`
    (`PromiseRisk.Cause`) is recorded for the KPI reports."""
    requests_flag_window_risk([(request, visit)], cause=cause)


def requests_flag_window_risk(
    flagged: list[tuple[ServiceRequest, object]],
    *,
    changes: Iterable[Change] = (),
    cause: str = "",
) -> None:
    """`request_flag_window_risk` for several requests of one tenant in one go: one update,
    one batch of live events (with the caller's other `changes`), one insert of the customers'
    messages, one of the causes. Inside the caller's transaction."""
    if not flagged:
        return
    changes, first_times = list(changes), []
    requests_version_raise(request for request, _visit in flagged)
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
    if cause and first_times:
        PromiseRisk.objects.bulk_create(
            PromiseRisk(
                tenant_id=request.tenant_id,
                request=request,
                technician_id=visit.technician_id if visit else None,
                cause=cause,
                window_end=request.window_end,
            )
            for request, visit in first_times
        )
    if first_times:
        tenant = first_times[0][0].tenant  # one tenant's language and time zone for all
        messages = []
        with timezone.override(tenant.zone):
            for request, visit in first_times:
                with override(customer_language(request, tenant)):
                    messages.append(_late_message(request, visit, tenant))
        notifications_enqueue(messages)


def _late_message(request: ServiceRequest, visit, tenant: Tenant) -> dict:
    """The customer's message, in the language and time zone the caller set."""
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
