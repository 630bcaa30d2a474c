"""Changing a promise: reschedule to another window, cancel, and what customers may change.

Every channel (API, operator console, portal, SMS and IVR) calls these. The agreed window lives
on the request; the visit holding capacity for it is released and a new one booked in the same
transaction, so a failed booking leaves the old promise as it was.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import User
from dispatch.errors import DomainError, IllegalTransition
from notifications.services import notification_enqueue
from requests_app.models import ServiceRequest, StatusChange
from requests_app.services import (
    customer_message,
    request_changed,
    request_confirm_window,
    request_transition,
)
from requests_app.states import CLOSED, Status
from technicians.models import Visit

# A visit the technician has started cannot be moved or called off from the office.
STARTED = (Visit.Status.ON_SITE,)


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
    request: ServiceRequest,
    window: tuple[datetime, datetime],
    actor: User | None = None,
    reason: str = "",
) -> ServiceRequest:
    """Move the agreed window, booked against capacity like a new one (Conflict when full)."""
    from dispatch import tasks
    from dispatch.engine.windows import window_reserve  # builds on request services

    request = _locked(request)
    if request.kind != ServiceRequest.Kind.PLANNED:
        raise DomainError(_("Only planned visits have an arrival window."), field="window_start")
    if request.status in CLOSED or request.status == Status.ON_SITE:
        raise IllegalTransition(_("This request can no longer be rescheduled."))
    if window[1] <= window[0]:
        raise DomainError(_("The window must end after it starts."), field="window_end")
    if window[1] <= timezone.now():
        raise DomainError(_("The window is already over."), field="window_start")
    old_day = request.window_start
    with timezone.override(request.tenant.zone):
        note = _("Window %(old)s → %(new)s") % {
            "old": _window_text(request.window_start, request.window_end),
            "new": _window_text(*window),
        }
    note = f"{note}: {reason}" if reason else note
    _release_visit(request)
    request.window_start, request.window_end = window
    request.response_due = window[1]
    request.window_at_risk = False
    request.plan_note = ""
    request.save(
        update_fields=[
            "window_start",
            "window_end",
            "response_due",
            "window_at_risk",
            "plan_note",
            "updated_at",
        ]
    )
    if request.status == Status.RESCHEDULED:
        # Already waiting for a new time: the change is still a row, with who and why.
        StatusChange.objects.create(
            tenant_id=request.tenant_id,
            request=request,
            from_status=Status.RESCHEDULED,
            to_status=Status.RESCHEDULED,
            actor=actor,
            reason=note[:300],
        )
    else:
        request_transition(request=request, to=Status.RESCHEDULED, actor=actor, reason=note)
    window_reserve(request=request)
    request_confirm_window(request=request)
    tenant = request.tenant
    for moment in {old_day, window[0]} - {None}:
        day = timezone.localdate(moment, timezone=tenant.zone)
        transaction.on_commit(lambda d=day: tasks.replan_soon(tenant_id=tenant.pk, day=d))
    return request


@transaction.atomic
def request_cancel(
    *, request: ServiceRequest, actor: User | None = None, reason: str = ""
) -> ServiceRequest:
    request = _locked(request)
    if request.status in CLOSED or request.status == Status.ON_SITE:
        raise IllegalTransition(_("This request can no longer be cancelled."))
    _release_visit(request)
    request_transition(
        request=request, to=Status.CANCELLED, actor=actor, reason=reason or _("Cancelled")
    )
    tenant = request.tenant
    with override(tenant.language):
        body = _("%(tenant)s: your request %(number)s is cancelled.") % {
            "tenant": tenant.name,
            "number": request.number,
        }
    notification_enqueue(
        **customer_message(
            request,
            body=body,
            kind="request_cancelled",
            dedupe_key=f"request-cancelled:{request.pk}",
        )
    )
    return request


@transaction.atomic
def request_update(
    *,
    request: ServiceRequest,
    actor: User | None = None,
    description: str | None = None,
    priority: int | None = None,
    address: str | None = None,
) -> ServiceRequest:
    """Edit what does not move the promise; the window changes through reschedule."""
    request = _locked(request)
    if request.status in CLOSED:
        raise IllegalTransition(_("A closed request cannot be changed."))
    fields = {"description": description, "priority": priority, "address": address}
    changed = [name for name, value in fields.items() if value is not None]
    for name in changed:
        setattr(request, name, fields[name])
    if changed:
        request.save(update_fields=[*changed, "updated_at"])
        request_changed(request=request)
    return request


@transaction.atomic
def request_confirm_presence(*, request: ServiceRequest) -> ServiceRequest:
    """The customer says they will be there: the technician's day shows it."""
    request = (
        ServiceRequest.objects.select_for_update()
        .select_related("tenant", "customer")
        .get(pk=request.pk)
    )
    request.customer_confirmed_at = timezone.now()
    request.save(update_fields=["customer_confirmed_at", "updated_at"])
    request_changed(request=request)
    return request


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


# After a visit that could not complete: what the request needs next, by the reason given.
CUSTOMER_SIDE = frozenset({Visit.Reason.CUSTOMER_ABSENT, Visit.Reason.NO_ACCESS})


def request_follow_up(
    *, request: ServiceRequest, visit: Visit, reason: str, actor: User | None = None
) -> None:
    """A request whose `visit` could not complete is never left without a next step:

    - the customer refused the work: it stays "not completed" (an unproductive visit);
    - an emergency the customer was not there for goes to dispatchers to call them first;
    - any other emergency goes back to the engine for another technician, now;
    - a planned visit waits for a new window, and the customer gets the link to choose one.
    """
    from dispatch import tasks  # builds on request services

    label = Visit.Reason(reason).label
    if reason == Visit.Reason.CUSTOMER_REFUSED:
        return
    if request.kind == ServiceRequest.Kind.EMERGENCY:
        if reason in CUSTOMER_SIDE:
            note = _("Call the customer before sending someone again: %(reason)s")
            request_transition(
                request=request,
                to=Status.ESCALATED,
                actor=actor,
                reason=note % {"reason": label},
            )
            return
        note = _("Another visit is needed: %(reason)s") % {"reason": label}
        request_transition(request=request, to=Status.NEW, actor=actor, reason=note)
        tasks.assign_request.delay_on_commit(request_id=request.pk)
        return
    note = _("Waiting for a new window: %(reason)s") % {"reason": label}
    request_transition(request=request, to=Status.RESCHEDULED, actor=actor, reason=note)
    _ask_for_new_window(request, visit)


def _ask_for_new_window(request: ServiceRequest, visit: Visit) -> None:
    from requests_app.tracking import tracking_url

    tenant = request.tenant
    with override(tenant.language):
        body = _(
            "%(tenant)s: we could not finish the job %(number)s today. Choose a new time for "
            "the next visit: %(link)s"
        ) % {
            "tenant": tenant.name,
            "number": request.number,
            "link": tracking_url(request) + "?change=1",
        }
    notification_enqueue(
        **customer_message(
            request,
            body=body,
            kind="follow_up_window",
            dedupe_key=f"follow-up:{visit.pk}",
        )
    )
