"""The rolling planner: each technician's route for a day, optimised by the routing solver.

Hard rules: agreed windows, skills, shifts (a technician leaves home, or the job in hand, and is
home by the shift end), absences. Visits a technician accepted or started, visits a dispatcher
pinned and emergencies already placed are pinned to their technician and time. Requests that
cannot fit are left unassigned with the reason, shown to dispatchers, and their customers told.
A re-plan keeps each booked visit with its technician while their route can hold it and inserts
only new and displaced work (`dispatch.routing.keep`), so a technician's day stays as promised.

The plan is computed without locks, then applied under the technicians' row locks; a technician
whose route changed meanwhile (an emergency, an acceptance) keeps their route until the next run.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Tenant
from core.db import (
    Constraint,
    LockScope,
    advisory_xact_try_lock,
    constraints_checked,
    constraints_deferred,
)
from core.observability import assignment_counted
from dispatch.engine import national
from dispatch.feasibility import check_solution
from dispatch.models import Decision
from dispatch.reads import IN_HAND, could_not_finish, live_after
from dispatch.routes import free_after, latest_arrival, working_window
from dispatch.routing import Problem, Solution, SolverJob, UnassignedReason, Vehicle, get_solver
from dispatch.routing.keep import solve_keeping
from dispatch.routing.partition import PlainDay
from dispatch.rules import LUNCH_FROM, LUNCH_TO
from dispatch.travel import travel_for_tenant
from requests_app.models import ServiceRequest
from requests_app.services import request_changed, request_flag_window_risk, request_transition
from requests_app.states import PLANNABLE, UNASSIGNED, Status
from technicians.models import Absence, Shift, Technician, Visit
from technicians.services import visit_create

log = logging.getLogger(__name__)
POLICY = "vrp"
OVERDUE_HORIZON = timedelta(hours=1)
# Lazy: read in the language of whoever reads them (a board, a status change being written).
REASONS = {
    UnassignedReason.SKILLS: gettext_lazy("no technician on shift has the skills"),
    UnassignedReason.PINNED_VEHICLE_UNAVAILABLE: gettext_lazy(
        "pinned to a technician who is not working"
    ),
    UnassignedReason.UNREACHABLE: gettext_lazy(
        "no qualified technician can reach it within its window"
    ),
    UnassignedReason.NO_CAPACITY: gettext_lazy("no room left in the day within its window"),
}


@dataclass
class DayModel:
    """The day as the solver sees it, with what it takes to write the answer back."""

    tenant: Tenant
    origin: datetime
    problem: Problem
    technicians: dict[str, Technician]
    requests: dict[str, ServiceRequest]
    movable_visits: dict[str, Visit]
    retimes: list[tuple[Visit, datetime]]  # overdue fixed work, moved to when it can happen
    signatures: dict[int, tuple]  # technician id → their live visits when the plan was made
    lunch_shifts: dict[str, Shift] = field(default_factory=dict)  # vehicle placing the lunch
    # A day too large for one solve: no matrix (`problem` is None), planned in parts.
    plain: PlainDay | None = field(default=None)


@dataclass
class PlanResult:
    assigned: int = 0
    moved: int = 0
    unassigned: int = 0
    skipped_technicians: int = 0
    requeued: int = 0
    failed: bool = False
    runtime_s: float = 0.0
    cost: int = 0


def _seconds(moment: datetime, origin: datetime) -> int:
    return int((moment - origin).total_seconds())


def _signature(visits) -> tuple:
    return tuple(sorted((v.pk, v.updated_at.isoformat()) for v in visits))


def _visits_of_day(queryset, *, origin: datetime, now: datetime):
    """The live visits a day's plan owns. Overdue ones that have not started belong to today
    only: a later day must never pick up (and re-plan) another day's work."""
    day_end = origin + timedelta(days=1)
    queryset = queryset.filter(live_after(max(now, origin)), planned_start__lt=day_end)
    return queryset if origin <= now else queryset.filter(planned_start__gte=origin)


def _is_fixed(visit: Visit) -> bool:
    """Work the planner routes around: accepted, pinned, emergencies, or without a window."""
    return (
        visit.pinned
        or visit.status != Visit.Status.SCHEDULED
        or visit.request.kind == ServiceRequest.Kind.EMERGENCY
        or visit.request.window_start is None
    )


def build_day(*, tenant: Tenant, day: date, now: datetime) -> DayModel | None:
    """The day as a routing problem. Fixed work is not a job for the solver: it splits the
    technician's day into segments (home → fixed visit → … → home), each a vehicle starting
    and ending at the fixed visits' addresses. Pins stay exact and the solver needs only one
    travel profile per skill set, not one per technician."""
    origin = datetime.combine(day, time(0), tzinfo=tenant.zone)
    day_end = origin + timedelta(days=1)
    shifts = list(
        Shift.objects.for_tenant(tenant)
        .filter(date=day, end__gt=now, technician__active=True)
        .select_related("technician__user")
        .prefetch_related("technician__skills")
    )
    absences: dict[int, list[Absence]] = {}
    for absence in Absence.objects.for_tenant(tenant).filter(end__gt=now, start__lt=day_end):
        absences.setdefault(absence.technician_id, []).append(absence)
    live = list(
        _visits_of_day(Visit.objects.for_tenant(tenant), origin=origin, now=now)
        .select_related("request")
        .prefetch_related("request__required_skills")
        .order_by("planned_start")
    )
    by_technician: dict[int, list[Visit]] = {}
    for visit in live:
        by_technician.setdefault(visit.technician_id, []).append(visit)

    points: list[tuple[float, float]] = []
    index: dict[tuple[float, float], int] = {}

    def at(point) -> int:
        if point not in index:
            index[point] = len(points)
            points.append(point)
        return index[point]

    vehicles, technicians, signatures, jobs = [], {}, {}, []
    lunch_shifts: dict[str, Shift] = {}
    spans: dict[int, list[tuple[datetime, datetime, str]]] = {}  # technician → their segments
    requests, movable, retimes = {}, {}, []
    for shift in shifts:
        technician = shift.technician
        window = working_window(shift, absences.get(technician.pk, []), now)
        if window is None:
            continue
        visits = by_technician.get(technician.pk, [])
        signatures[technician.pk] = _signature(visits)
        clock, here = window[0], (technician.home_lat, technician.home_lon)
        if technician.last_seen_at and technician.last_seen_at >= shift.start:
            here = technician.position  # out on the road since the shift began
        for visit in visits:
            if visit.status in IN_HAND:
                # The job in hand: the route starts where and when it ends.
                clock = max(clock, free_after(visit, now))
                here = (visit.request.lat, visit.request.lon)
        segments = []
        for visit in visits:
            if visit.status in IN_HAND or not _is_fixed(visit):
                continue
            point = (visit.request.lat, visit.request.lon)
            begins = visit.planned_start
            if begins < clock:  # overdue fixed work happens next, as soon as possible
                begins = clock
                retimes.append((visit, begins))
            segments.append((clock, here, begins, point))
            clock, here = begins + (visit.planned_end - visit.planned_start), point
        segments.append((clock, here, window[1], (technician.home_lat, technician.home_lon)))
        skills = frozenset(skill.code for skill in technician.skills.all())
        usable = [seg for seg in segments if seg[2] > seg[0]]
        lunch = shift.lunch_minutes * 60
        # The lunch is placed at an hour in the segment that leaves it the most room to start.
        starts = [_lunch_starts(shift, leave, back, origin) for leave, _, back, _ in usable]
        host = max(range(len(usable)), key=lambda k: starts[k][1] - starts[k][0], default=None)
        if host is not None and starts[host][1] < starts[host][0]:
            host = None
        longest = max(usable, key=lambda seg: seg[2] - seg[0], default=None)
        for number, (leave, frm, back, to) in enumerate(usable):
            vehicle_id = f"t{technician.pk}.{number}"
            technicians[vehicle_id] = technician
            spans.setdefault(technician.pk, []).append((leave, back, vehicle_id))
            length = _seconds(back, origin) - _seconds(leave, origin)
            break_window = None
            if lunch and number == host:
                break_window = starts[host]
                lunch_shifts[vehicle_id] = shift
            elif lunch and host is None and (leave, frm, back, to) == longest:
                # No segment can start the lunch inside its span (a short or split shift):
                # it is kept as time the longest segment may not use.
                length = max(0, length - lunch)
            vehicles.append(
                Vehicle(
                    id=vehicle_id,
                    start=at(frm),
                    end=at(to),
                    shift_start=_seconds(leave, origin),
                    shift_end=_seconds(back, origin),
                    skills=skills,
                    max_duration=length,
                    break_window=break_window,
                    break_duration=lunch if break_window else 0,
                )
            )

    for visit in live:
        if visit.status in IN_HAND or _is_fixed(visit):
            continue
        job_id = f"r{visit.request_id}"
        requests[job_id] = visit.request
        movable[job_id] = visit

    for request in (
        ServiceRequest.objects.for_tenant(tenant)
        .filter(
            kind=ServiceRequest.Kind.PLANNED,
            status__in=PLANNABLE,
            held=False,
            window_start__lt=day_end,
            window_end__gt=origin,
        )
        .prefetch_related("required_skills")
        .select_related("customer")
    ):
        requests[f"r{request.pk}"] = request

    # The technician who could not finish a job in its window is not sent back into it.
    failed = could_not_finish(request_ids=[request.pk for request in requests.values()])
    vehicles_of: dict[int, set[str]] = {}
    for vehicle_id, technician in technicians.items():
        vehicles_of.setdefault(technician.pk, set()).add(vehicle_id)
    for job_id, request in requests.items():
        excluded = frozenset().union(
            *(vehicles_of.get(pk, ()) for pk in failed.get(request.pk, ()))
        )
        jobs.append(
            _planned_job(
                job_id,
                request,
                origin,
                now,
                at,
                booked=job_id in movable,
                excluded=excluded,
                current_vehicle=_current_vehicle(movable.get(job_id), spans),
                margin=tenant.window_margin_minutes,
            )
        )

    if not vehicles and not jobs:
        return None
    regions = [technicians[vehicle.id].territory for vehicle in vehicles]
    plain = PlainDay(points=points, vehicles=vehicles, jobs=jobs, regions=regions)
    if national.is_large(plain):  # no whole-day matrix: each part builds its own
        model = DayModel(
            tenant, origin, None, technicians, requests, movable, retimes, signatures, lunch_shifts
        )
        model.plain = plain
        return model
    duration, distance = travel_for_tenant(tenant).matrix(points or [(0.0, 0.0)])
    problem = Problem(vehicles=vehicles, jobs=jobs, duration=duration, distance=distance)
    return DayModel(
        tenant, origin, problem, technicians, requests, movable, retimes, signatures, lunch_shifts
    )


def _current_vehicle(visit: Visit | None, spans: dict) -> str | None:
    """The segment of the technician's day that holds the booked visit now, if any."""
    if visit is None:
        return None
    for leave, back, vehicle_id in spans.get(visit.technician_id, ()):
        if leave <= visit.planned_start < back:
            return vehicle_id
    return None


def _lunch_starts(shift: Shift, leave: datetime, back: datetime, origin: datetime) -> tuple:
    """When the lunch may start within one segment, in seconds from `origin`: the span the
    board's lunch rule uses (`dispatch.rules`), clipped so the whole break fits the segment."""
    day = timezone.localtime(shift.start, origin.tzinfo).date()
    span_from = datetime.combine(day, LUNCH_FROM, tzinfo=origin.tzinfo)
    span_to = datetime.combine(day, LUNCH_TO, tzinfo=origin.tzinfo)
    lunch = timedelta(minutes=shift.lunch_minutes)
    earliest = max(span_from, leave)
    latest = min(span_to, back) - lunch
    return _seconds(earliest, origin), _seconds(latest, origin)


def _planned_job(
    job_id,
    request: ServiceRequest,
    origin,
    now,
    at,
    booked=False,
    excluded=frozenset(),
    margin: int | None = None,
    current_vehicle: str | None = None,
) -> SolverJob:
    tw_start = max(request.window_start, now)
    tw_end = max(tw_start, latest_arrival(request.window_end, now, margin_minutes=margin))
    priority = 6 - request.priority
    if booked:
        # It holds a visit: the customer has the promise in writing. A re-plan that drops it to
        # fit a new request would break a promise to make one (seen in the demo: a booked
        # visit left out, then taken back in, run after run).
        priority *= 2
    if request.window_end <= now:
        # The promise is already broken: serve it within the hour, before the next run, or
        # each run would place it near the end of a fresh horizon and it would never come.
        tw_end = now + OVERDUE_HORIZON
        priority *= 3
    return SolverJob(
        id=job_id,
        location=at((request.lat, request.lon)),
        service=request.estimated_minutes * 60,
        tw_start=_seconds(tw_start, origin),
        tw_end=_seconds(tw_end, origin),
        skills=frozenset(skill.code for skill in request.required_skills.all()),
        priority=priority,
        excluded=excluded,
        current_vehicle=current_vehicle,
    )


def plan_day(
    *, tenant_id: int, day: date, now: datetime | None = None, time_limit: float | None = None
) -> PlanResult | None:
    """Optimise and apply one tenant's day. Returns None when another planner holds the day
    (or the tenant is gone: a debounced re-plan can outlive it)."""
    now = now or timezone.now()
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return None
    with transaction.atomic():
        # One planner per tenant and day; a second one gives way instead of queueing.
        if not advisory_xact_try_lock(LockScope.DAY_PLAN, tenant_id, day.isoformat()):
            return None
        model = build_day(tenant=tenant, day=day, now=now)
        if model is None:
            return PlanResult()
        limit = time_limit or settings.PLAN_TIME_LIMIT_SECONDS
        if model.plain is not None:
            solution = _solve_in_parts(model, time_limit=limit)
        else:
            # Booked visits stay with their technician unless their route cannot hold them.
            solution = solve_keeping(model.problem, solver=get_solver(), time_limit=limit)
        result = apply_plan(model, solution, now=now)
    log.info("planned tenant %s %s: %s", tenant_id, day, result)
    return result


def _solve_in_parts(model: DayModel, *, time_limit: float) -> Solution:
    """A large day, planned in parts on the plan queue's workers; each part's plan was checked
    there, and a part that failed is left out (its jobs and technicians keep what they have)."""
    tenant = model.tenant
    travel = {"speed_kmh": tenant.travel_speed_kmh, "detour": tenant.travel_detour_factor}
    plan = national.day_solve_partitioned(day=model.plain, time_limit=time_limit, travel=travel)
    failed = [part.key for part in plan.parts + plan.boundary if not part.applied]
    if failed:
        log.error("tenant %s: parts not applied: %s", tenant.pk, ", ".join(failed))
    return plan.solution


def apply_plan(model: DayModel, solution: Solution, *, now: datetime) -> PlanResult:
    # Never trust the solver: a plan the independent checker faults is not written at all. A
    # day planned in parts has no whole-day matrix: each part was checked on its worker, and a
    # part that failed is not in `solution`.
    violations = [] if model.problem is None else check_solution(model.problem, solution)
    if violations:
        log.error(
            "plan for tenant %s refused: %d violations",
            model.tenant.pk,
            len(violations),
            extra={
                "event": "plan_refused",
                "tenant_id": model.tenant.pk,
                "day": model.origin.date().isoformat(),
                "solver": solution.solver,
                "violations": [
                    {"kind": v.kind, "vehicle": v.vehicle_id, "job": v.job_id, "detail": v.detail}
                    for v in violations[:50]
                ],
            },
        )
        return PlanResult(failed=True, runtime_s=solution.runtime_s)
    result = PlanResult(runtime_s=solution.runtime_s, cost=solution.cost)
    technician_ids = sorted(t.pk for t in model.technicians.values())
    # Locks in id order, the same technicians the emergency rule locks one at a time.
    locked = {t.pk for t in Technician.objects.select_for_update().filter(pk__in=technician_ids)}
    current = {}
    for visit in _visits_of_day(
        Visit.objects.filter(technician_id__in=locked), origin=model.origin, now=now
    ):
        current.setdefault(visit.technician_id, []).append(visit)
    stale = {pk for pk in locked if _signature(current.get(pk, [])) != model.signatures[pk]}
    result.skipped_technicians = len(stale)
    try:
        with transaction.atomic():
            constraints_deferred(Constraint.VISIT_NO_OVERLAP)
            _apply_routes(model, solution, stale, now, result)
            _apply_breaks(model, solution, stale)
            # Check now, inside the savepoint, so a plan that would double-book is undone
            # alone instead of failing the caller's commit.
            constraints_checked(Constraint.VISIT_NO_OVERLAP)
    except IntegrityError:
        log.exception("plan for tenant %s rolled back: it would double-book", model.tenant.pk)
        return PlanResult(failed=True, runtime_s=solution.runtime_s)
    return result


def _apply_routes(model, solution, stale: set[int], now, result: PlanResult) -> None:
    for visit, begins in model.retimes:
        if visit.technician_id not in stale:
            visit.planned_end = begins + (visit.planned_end - visit.planned_start)
            visit.planned_start = begins
            visit.save(update_fields=["planned_start", "planned_end", "updated_at"])
            request_changed(request=visit.request)
    placed: set[str] = set()
    for route in solution.routes:
        technician = model.technicians[route.vehicle_id]
        if technician.pk in stale:
            for stop in route.stops:
                placed.add(stop.job_id)
                _requeue_if_moving_in(model, stop.job_id, technician, result)
            continue
        for sequence, stop in enumerate(route.stops):
            placed.add(stop.job_id)
            _place(model, stop, technician, sequence, now, result)
    for job_id, reason in solution.unassigned.items():
        if job_id not in placed:
            _leave_out(model, job_id, reason, result)


def _apply_breaks(model: DayModel, solution: Solution, stale: set[int]) -> None:
    """Each planned lunch is written on the technician's shift, for their day and the board; a
    technician with no route today has no placed lunch."""
    for vehicle_id, shift in model.lunch_shifts.items():
        if shift.technician_id in stale:
            continue
        route = solution.route_of(vehicle_id)
        placed = route.breaks[0] if route is not None and route.breaks else None
        start = None if placed is None else model.origin + timedelta(seconds=placed.start)
        end = None if placed is None else model.origin + timedelta(seconds=placed.end)
        if (shift.break_start, shift.break_end) != (start, end):
            shift.break_start, shift.break_end = start, end
            shift.save(update_fields=["break_start", "break_end"])


def _requeue_if_moving_in(model, job_id: str, technician: Technician, result) -> None:
    """The plan gives this visit to a technician whose route changed meanwhile: its old place
    may be taken by now, so it waits for the next run instead (the customer is not told: no
    promise is broken yet)."""
    visit = model.movable_visits.get(job_id)
    if visit is None or visit.technician_id == technician.pk:
        return
    visit.status = Visit.Status.CANCELLED
    visit.save(update_fields=["status", "updated_at"])
    request_transition(request=model.requests[job_id], to=Status.NEW, reason=_("Re-planning"))
    result.requeued += 1


def _place(model: DayModel, stop, technician: Technician, sequence: int, now, result) -> None:
    request = model.requests[stop.job_id]
    start = model.origin + timedelta(seconds=stop.start)
    end = start + timedelta(minutes=request.estimated_minutes)
    visit = model.movable_visits.get(stop.job_id)
    if visit is None and request.status not in UNASSIGNED:
        return  # assigned meanwhile by someone else
    if visit is None:
        visit = visit_create(
            request=request,
            technician=technician,
            start=start,
            end=end,
            sequence=sequence,
            reason=_("Planned route"),
        )
        result.assigned += 1
        changed = moved = True
    else:
        moved = visit.technician_id != technician.pk
        changed = moved or visit.planned_start != start or visit.sequence != sequence
        if changed:
            visit.technician, visit.planned_start, visit.planned_end = technician, start, end
            visit.sequence = sequence
            visit.save(
                update_fields=[
                    "technician",
                    "planned_start",
                    "planned_end",
                    "sequence",
                    "updated_at",
                ]
            )
            result.moved += moved
    keeps_window = request.window_end is None or start <= request.window_end
    if request.plan_note or (request.window_at_risk and keeps_window):
        request.plan_note = ""
        request.window_at_risk = request.window_at_risk and not keeps_window
        request.save(update_fields=["plan_note", "window_at_risk", "updated_at"])
        changed = True
    if not keeps_window and not request.window_at_risk:
        request_flag_window_risk(request=request, visit=visit)
    elif changed:
        request_changed(request=request)
    if moved:
        assignment_counted(policy=POLICY)
        Decision.objects.create(
            tenant_id=request.tenant_id,
            request=request,
            technician=technician,
            policy=POLICY,
            outcome="assigned",
            candidates=[
                {
                    "technician_id": technician.pk,
                    "name": str(technician),
                    "start": start.isoformat(),
                    "sequence": sequence,
                }
            ],
        )


def _leave_out(model: DayModel, job_id: str, reason: UnassignedReason, result) -> None:
    request = model.requests[job_id]
    visit = model.movable_visits.get(job_id)
    if visit is None and request.status not in UNASSIGNED:
        return  # pinned work stays as the dispatcher or the technician fixed it
    note = str(REASONS.get(reason, reason))
    if visit is not None:
        visit.status = Visit.Status.CANCELLED
        visit.save(update_fields=["status", "updated_at"])
        request_transition(request=request, to=Status.NEW, reason=note, emit=False)
    # The request keeps the reason's code: each screen shows it in its reader's language.
    if request.plan_note == reason and visit is None:
        return
    request.plan_note = reason
    request.save(update_fields=["plan_note", "updated_at"])
    result.unassigned += 1
    Decision.objects.create(
        tenant_id=request.tenant_id,
        request=request,
        policy=POLICY,
        outcome="unassigned",
        excluded=[{"reason": str(reason), "detail": note}],
    )
    if visit is not None and request.window_start and not request.window_at_risk:
        request_flag_window_risk(request=request, visit=None)  # no new time to offer yet
    else:
        request_changed(request=request)


def days_to_plan(tenant: Tenant, now: datetime) -> list[date]:
    today = timezone.localdate(now, timezone=tenant.zone)
    return [today + timedelta(days=offset) for offset in range(settings.PLAN_DAYS_AHEAD + 1)]
