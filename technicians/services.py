"""Writes on visits: assigning a request to a technician and the technician's status flow."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core import followups
from core.db import Constraint, constraints_deferred
from core.errors import Conflict, DomainError, IllegalTransition, RulesBroken
from dispatch.routes import legs_move, load_routes, push_legs
from dispatch.rules import assignment_problems
from dispatch.travel import travel_for_tenant
from reports.models import PromiseRisk
from requests_app.follow_up import request_follow_up
from requests_app.models import ServiceRequest
from requests_app.services import (
    request_changed,
    request_check_version,
    request_noted,
    request_transition,
)
from requests_app.states import Status as RequestStatus
from requests_app.states import check_transition
from technicians.models import Shift, Technician, Visit

VisitStatus = Visit.Status

# What the technician (or a dispatcher) may do to a visit, and what it means for the request.
VISIT_FLOW: dict[str, tuple[frozenset[str], str, str | None]] = {
    # target: (allowed from, request status, timestamp field)
    VisitStatus.ACCEPTED: (
        frozenset({VisitStatus.SCHEDULED}),
        RequestStatus.ACCEPTED,
        "accepted_at",
    ),
    VisitStatus.EN_ROUTE: (
        frozenset({VisitStatus.SCHEDULED, VisitStatus.ACCEPTED}),
        RequestStatus.EN_ROUTE,
        "en_route_at",
    ),
    VisitStatus.ON_SITE: (frozenset({VisitStatus.EN_ROUTE}), RequestStatus.ON_SITE, "arrived_at"),
    VisitStatus.COMPLETED: (
        frozenset({VisitStatus.ON_SITE}),
        RequestStatus.COMPLETED,
        "finished_at",
    ),
    VisitStatus.NOT_COMPLETED: (
        frozenset({VisitStatus.ON_SITE}),
        RequestStatus.NOT_COMPLETED,
        "finished_at",
    ),
}


# The order of the steps: a step forward past another one is out of order (it asks for the
# technician's confirmation); a step back is never allowed.
STEP_ORDER = {
    VisitStatus.SCHEDULED: 0,
    VisitStatus.ACCEPTED: 1,
    VisitStatus.EN_ROUTE: 2,
    VisitStatus.ON_SITE: 3,
    VisitStatus.COMPLETED: 4,
    VisitStatus.NOT_COMPLETED: 4,
}
# Arriving this much before the agreed window is normal; earlier asks for a confirmation.
EARLY_ARRIVAL = timedelta(minutes=30)
# A phone's clock may run a little ahead: a step stamped later than this after the server's
# "now" is taken as happening now.
CLOCK_SKEW = timedelta(minutes=5)


class Guarded(Conflict):
    """A step that needs the technician's confirmation and a reason (`extra["problems"]`)."""

    code = "guard"

    @classmethod
    def default_message(cls) -> str:
        return _("Confirm this step and say why.")


def visit_step_problems(*, visit: Visit, to: str, at: datetime) -> list[dict]:
    """Why a step at `at` is unusual: out of order, before the shift, before the agreed
    window. Each a code and a sentence to show."""
    problems = []
    if visit.status not in VISIT_FLOW[to][0]:
        problems.append(
            {
                "code": "out_of_order",
                "message": _("“%(target)s” skips a step: the job is “%(current)s”.")
                % {"target": VisitStatus(to).label, "current": VisitStatus(visit.status).label},
            }
        )
    zone = timezone.get_current_timezone()
    shift = Shift.objects.filter(
        technician_id=visit.technician_id, date=timezone.localdate(at, zone)
    ).first()
    if shift is not None and at < shift.start:
        problems.append(
            {
                "code": "before_shift",
                "message": _("Your shift starts at %(time)s.")
                % {"time": timezone.localtime(shift.start, zone).strftime("%H:%M")},
            }
        )
    window_start = visit.request.window_start
    early = {VisitStatus.ON_SITE: EARLY_ARRIVAL, VisitStatus.COMPLETED: timedelta(0)}
    early[VisitStatus.NOT_COMPLETED] = timedelta(0)
    if window_start is not None and to in early and at < window_start - early[to]:
        problems.append(
            {
                "code": "before_window",
                "message": _("The agreed window starts at %(time)s.")
                % {"time": timezone.localtime(window_start, zone).strftime("%H:%M")},
            }
        )
    return problems


def _steps_to(current: str, to: str) -> list[str]:
    """The steps from `current` to `to`, the ones skipped included (in order)."""
    if current not in STEP_ORDER or current in (VisitStatus.COMPLETED, VisitStatus.NOT_COMPLETED):
        return []
    if current == VisitStatus.SCHEDULED and to == VisitStatus.EN_ROUTE:
        return [VisitStatus.ACCEPTED, to]  # the request passes "accepted" on the way
    if current in VISIT_FLOW[to][0]:
        return [to]
    if STEP_ORDER[current] >= STEP_ORDER[to]:
        return []
    between = [
        step
        for step in (VisitStatus.ACCEPTED, VisitStatus.EN_ROUTE, VisitStatus.ON_SITE)
        if STEP_ORDER[current] < STEP_ORDER[step] < STEP_ORDER[to]
    ]
    return [*between, to]


def visit_create(
    *,
    request: ServiceRequest,
    technician: Technician,
    start: datetime,
    end: datetime,
    travel_minutes: float = 0,
    sequence: int = 0,
    pinned: bool = False,
    actor: User | None = None,
    reason: str = "",
    emit: bool = True,
) -> Visit:
    """Assign a request. The database refuses a second live visit or a double-booked technician.
    `emit=False` leaves the live event to the caller (which emits once for a whole change)."""
    # Refused before any write, so the caller's transaction stays usable; the writes take no
    # savepoint of their own (a refused write fails the caller's change).
    if technician.tenant_id != request.tenant_id:
        raise DomainError(_("The technician works for another client."), field="technician")
    check_transition(request.status, RequestStatus.ASSIGNED)
    with transaction.atomic(savepoint=False):
        if request.plan_note:  # "why it is not planned" no longer holds
            request.plan_note = ""
            ServiceRequest.objects.filter(pk=request.pk).update(plan_note="")
        visit = Visit.objects.create(
            tenant_id=request.tenant_id,
            request=request,
            technician=technician,
            planned_start=start,
            planned_end=end,
            travel_minutes=max(0, round(travel_minutes)),
            sequence=sequence,
            pinned=pinned,
        )
        request_transition(
            request=request,
            to=RequestStatus.ASSIGNED,
            actor=actor,
            reason=reason or _("Assigned to %(name)s") % {"name": technician},
            emit=emit,
        )
    if request.kind == ServiceRequest.Kind.EMERGENCY:
        # "A technician is assigned, arriving around HH:MM": after commit, by the worker.
        followups.enqueue_on_commit(followups.NOTIFY_ASSIGNED, visit_id=visit.pk)
    return visit


@transaction.atomic
def visit_transition(
    *,
    visit: Visit,
    to: str,
    actor: User | None = None,
    reason: str = "",
    note: str = "",
    at: datetime | None = None,
    confirm: bool = False,
    why: str = "",
) -> Visit:
    """accept → en route → on site → completed | not completed (with a reason code).

    `at` is when it happened (a phone's time, replayed later; never after now). A step out of
    order, before the shift or before the agreed window is refused (`Guarded`) unless the
    caller `confirm`s it and says `why`; the history keeps the why, and skipped steps are
    recorded as passed at the same time."""
    if to not in VISIT_FLOW:
        raise IllegalTransition(_("Unknown visit status."))
    visit = Visit.objects.select_for_update().select_related("request").get(pk=visit.pk)
    steps = _steps_to(visit.status, to)
    if not steps:
        raise IllegalTransition(
            _("A visit cannot go from “%(current)s” to “%(target)s”.")
            % {"current": VisitStatus(visit.status).label, "target": VisitStatus(to).label}
        )
    if to == VisitStatus.NOT_COMPLETED and reason not in Visit.Reason.values:
        raise DomainError(_("Choose why the job could not be completed."), field="reason")
    if "\x00" in note + why:  # PostgreSQL text cannot hold it: refused, not a server error
        raise DomainError(_("The note contains a character that is not text."), field="note")
    now = timezone.now()
    at = min(at or now, now) if (at or now) <= now + CLOCK_SKEW else now
    problems = visit_step_problems(visit=visit, to=to, at=at)
    if problems and not confirm:
        raise Guarded(extra={"problems": problems})
    if problems and not why.strip():
        raise DomainError(_("Say why you confirm this step."), field="why")
    confirmed = ""
    if problems:
        confirmed = _("Confirmed by the technician (%(problems)s): %(why)s") % {
            "problems": ", ".join(problem["code"] for problem in problems),
            "why": why.strip(),
        }
    for step in steps:
        _step(visit, step, actor=actor, reason=reason, note=note, at=at, confirmed=confirmed)
    return visit


def _step(
    visit: Visit, to: str, *, actor: User | None, reason: str, note: str, at, confirmed: str
) -> None:
    request_status, stamp = VISIT_FLOW[to][1:]
    visit.status = to
    visit.note = note or visit.note
    if to == VisitStatus.NOT_COMPLETED:
        visit.reason = reason
    setattr(visit, stamp, at)
    if to in (VisitStatus.ON_SITE, VisitStatus.COMPLETED, VisitStatus.NOT_COMPLETED):
        # Where the technician is, for the planner and the emergency rule (until a phone
        # reports a better position).
        Technician.objects.filter(pk=visit.technician_id).update(
            last_lat=visit.request.lat, last_lon=visit.request.lon, last_seen_at=at
        )
    if to == VisitStatus.ON_SITE and visit.planned_start != at:
        _retime_on_arrival(visit, at)
    elif to in (VisitStatus.COMPLETED, VisitStatus.NOT_COMPLETED) and at > visit.planned_start:
        visit.planned_end = at  # frees the rest of the day for the next plan
    visit.save()
    request = ServiceRequest.objects.select_for_update().get(pk=visit.request_id)
    label = Visit.Reason(reason).label if to == VisitStatus.NOT_COMPLETED else ""
    request_transition(
        request=request,
        to=request_status,
        actor=actor,
        reason=" · ".join(str(part) for part in (label, confirmed) if part),
    )
    if to == VisitStatus.EN_ROUTE:
        followups.enqueue_on_commit(followups.NOTIFY_ON_MY_WAY, visit_id=visit.pk)
    elif to == VisitStatus.COMPLETED:
        followups.enqueue_on_commit(followups.SEND_SERVICE_REPORT, visit_id=visit.pk)
        # The customer is asked how it went, after commit (the survey rules decide whether).
        followups.enqueue_on_commit(followups.SURVEY_INVITE, visit_id=visit.pk)
    if to == VisitStatus.NOT_COMPLETED:
        request_follow_up(request=request, visit=visit, reason=reason, actor=actor)


@transaction.atomic
def visit_unassign(
    *, visit: Visit, actor: User | None = None, reason: str = "", version: int | None = None
) -> Visit:
    """Take a job back from a technician before arrival. The request is held: no re-plan gives
    it to anyone until a dispatcher assigns or releases it (`request_release`)."""
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    request = ServiceRequest.objects.select_for_update().get(pk=visit.request_id)
    request_check_version(request, version)
    if visit.status not in (VisitStatus.SCHEDULED, VisitStatus.ACCEPTED, VisitStatus.EN_ROUTE):
        raise IllegalTransition(_("Only a visit not yet on site can be unassigned."))
    visit.status = VisitStatus.CANCELLED
    visit.save(update_fields=["status", "updated_at"])
    request.held = True
    request.save(update_fields=["held", "updated_at"])
    request_transition(request=request, to=RequestStatus.NEW, actor=actor, reason=reason)
    return visit


@transaction.atomic
def request_assign_manually(
    *,
    service_request: ServiceRequest,
    technician: Technician,
    start: datetime,
    actor: User,
    confirm: bool = False,
    version: int | None = None,
) -> Visit:
    """A dispatcher's override: put the request on this technician at this time, pinned, so
    the engine plans around it. Replaces the current visit if there is one. The planning rules
    are checked again here (RulesBroken when one is broken and the dispatcher did not
    `confirm`; the history names the rules a confirmed override broke)."""
    if technician.tenant_id != service_request.tenant_id or not technician.active:
        raise DomainError(_("Choose an active technician of this client."), field="technician")
    # Read again under the row lock: the caller's copy (and its prefetched visit) may be old.
    service_request = (
        ServiceRequest.objects.select_for_update()
        .select_related("tenant", "customer")
        .get(pk=service_request.pk)
    )
    request_check_version(service_request, version)
    problems = assignment_problems(request=service_request, technician=technician, start=start)
    if problems and not confirm:
        raise RulesBroken(extra={"problems": [problem.as_dict() for problem in problems]})
    end = start + timedelta(minutes=service_request.estimated_minutes)
    if service_request.held:  # the dispatcher's own choice ends the hold: the visit is pinned
        service_request.held = False
        ServiceRequest.objects.filter(pk=service_request.pk).update(held=False)
    visit = (
        Visit.objects.select_for_update()
        .filter(request=service_request, status__in=Visit.ACTIVE)
        .first()
    )
    overridden = ", ".join(dict.fromkeys(problem.code for problem in problems))
    try:
        with transaction.atomic():
            if visit is None:
                reason = _("Assigned by %(name)s") % {"name": actor}
                return visit_create(
                    request=service_request,
                    technician=technician,
                    start=start,
                    end=end,
                    pinned=True,
                    actor=actor,
                    reason=_confirmed(reason, overridden),
                )
            if visit.status not in (VisitStatus.SCHEDULED, VisitStatus.ACCEPTED):
                raise IllegalTransition(_("The technician is already on the way or on site."))
            reaccept = visit.status == VisitStatus.ACCEPTED and visit.technician_id != technician.pk
            visit.technician, visit.planned_start, visit.planned_end = technician, start, end
            visit.pinned = True
            if reaccept:
                visit.status = VisitStatus.SCHEDULED  # the new technician has not accepted it yet
            visit.save()
    except IntegrityError:
        raise Conflict(
            _("%(name)s already has a visit at that time.") % {"name": technician},
            field="start",
        ) from None
    reason = _confirmed(_("Reassigned by %(name)s") % {"name": actor}, overridden)
    if reaccept:
        request_transition(
            request=service_request, to=RequestStatus.ASSIGNED, actor=actor, reason=reason
        )
    else:  # the status stays: the reassignment is still a row, with who and why
        request_noted(request=service_request, actor=actor, reason=reason)
        request_changed(request=service_request, visit=visit)
    return visit


def _confirmed(reason: str, overridden: str) -> str:
    if not overridden:
        return reason
    return _("%(reason)s (confirmed: %(rules)s)") % {"reason": reason, "rules": overridden}


@transaction.atomic
def visit_pin(
    *, visit: Visit, pinned: bool, actor: User | None = None, version: int | None = None
) -> Visit:
    """Pin a visit to its technician and time (the engine plans around it), or release it."""
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    request = ServiceRequest.objects.select_for_update().get(pk=visit.request_id)
    request_check_version(request, version)
    if not visit.is_active:
        raise IllegalTransition(_("Only a live visit can be pinned."))
    visit.pinned = pinned
    visit.save(update_fields=["pinned", "updated_at"])
    request_changed(request=request, visit=visit)
    return visit


def _retime_on_arrival(visit: Visit, now: datetime) -> None:
    """The technician is on site now: the visit runs from now for its planned length, and the
    rest of the route is pushed where it no longer fits. Late promises are flagged."""
    length = visit.planned_end - visit.planned_start
    visit.planned_start, visit.planned_end = now, now + length
    technician = Technician.objects.select_for_update().get(pk=visit.technician_id)
    route = load_routes(
        [technician], now=now, shift_ends={technician.pk: visit.planned_end + timedelta(days=1)}
    )[technician.pk]
    route.legs = [leg for leg in route.legs if leg.visit_id != visit.pk]
    request = visit.request
    # The technician is physically here: a pinned visit later on slips too, it cannot be helped.
    moved, _broken, _blocked = push_legs(
        route,
        clock=visit.planned_end,
        here=(request.lat, request.lon),
        travel=travel_for_tenant(request.tenant),
        respect_pins=False,
    )
    if not moved:
        return
    constraints_deferred(Constraint.VISIT_NO_OVERLAP)
    # The job in hand started late: the later legs wait for it.
    legs_move(moved, cause=PromiseRisk.Cause.PREVIOUS_JOB_OVERRAN)
