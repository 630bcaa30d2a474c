"""Emergency assignment: the qualified technician on shift who can be on site soonest.

ETA = when the technician is free (end of the job in hand) + travel from there. The emergency
goes right after the job in hand; later visits are pushed. A visit pushed past its agreed window
is moved to another technician with room for it inside the window, or else flagged as at risk
and its customer told. Breaking a promise costs the candidate `BROKEN_WINDOW_PENALTY` in the
ranking (bench/day: 30 min slowed emergencies, p90 30 → 96 min, and saved no window), so a
slightly later technician who breaks nothing wins over one who does.

A technician whose shift starts later is a candidate too when they can be on site by the
response deadline, driving from home once the shift starts (issue #11: between a night crew
ending at 08:00 and a day crew starting at 08:15, every emergency used to be escalated).

Every decision is stored with the ranked candidates and the reasons the others were excluded.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from core import followups
from core.db import Constraint, constraints_deferred
from core.events import events_deferred
from core.geo import haversine_km
from core.observability import assignment_counted, escalation_counted
from dispatch.engine.reconcile import request_escalate_stuck
from dispatch.models import Decision
from dispatch.reads import IN_HAND, busy_visits, roster
from dispatch.routes import (
    Insertion,
    Leg,
    LiveRoute,
    find_gap,
    free_at,
    insert_first,
    legs_attach,
    legs_move,
    load_routes,
)
from dispatch.travel import travel_for_tenant
from reports.models import PromiseRisk
from requests_app.models import ServiceRequest
from requests_app.services import request_changed, request_transition
from requests_app.states import UNASSIGNED, Status
from technicians.models import Technician, Visit
from technicians.services import visit_create

POLICY = "soonest_eta_v2"
BROKEN_WINDOW_PENALTY = timedelta(minutes=15)
EXCLUDED_SAMPLE = 20
# A first ETA needs only the job in hand; full routes (emergencies waiting, pushes, broken
# windows) are read for the MAX_ROUTES soonest, then, unless one of them is sure to be best,
# for the next ones up to MAX_BATCHES times as many: a busy city's best is near.
MAX_ROUTES = 12
MAX_BATCHES = 3


@dataclass(slots=True)
class Candidate:
    route: LiveRoute
    insertion: Insertion

    @property
    def score(self) -> datetime:
        return self.insertion.eta + BROKEN_WINDOW_PENALTY * len(self.insertion.broken)

    def as_json(self, now: datetime) -> dict:
        technician = self.route.technician
        return {
            "technician_id": technician.pk,
            "name": str(technician),
            "eta": self.insertion.eta.isoformat(),
            "eta_minutes": round((self.insertion.eta - now).total_seconds() / 60, 1),
            "travel_minutes": round(self.insertion.travel_seconds / 60, 1),
            "visits_pushed": len(self.insertion.moved),
            "windows_broken": len(self.insertion.broken),
        }


@dataclass(frozen=True, slots=True)
class OnShift:
    """A technician working now (on shift, not absent), as plain values: every emergency reads
    them all and the routes of dozens. The one chosen, and those displaced visits move to, are
    read as models by the query that locks them."""

    pk: int
    tenant_id: int
    position: tuple[float, float]
    name: str
    skills: frozenset[int]
    shift_end: datetime
    starts: datetime | None = None  # a shift starting soon: free from then, at home

    def __str__(self) -> str:
        return self.name


def _routes_of(technicians: list[OnShift], now: datetime) -> dict:
    shift_ends = {technician.pk: technician.shift_end for technician in technicians}
    starts = {technician.pk: technician.starts for technician in technicians if technician.starts}
    return load_routes(technicians, now=now, shift_ends=shift_ends, starts=starts)


def response_deadline(request: ServiceRequest) -> datetime:
    """When someone must be on site: the deadline recorded at intake, else the tenant's
    response time from creation."""
    if request.response_due is not None:
        return request.response_due
    return request.created_at + timedelta(minutes=request.tenant.response_sla_minutes)


def _name(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def eligible_technicians(request: ServiceRequest, *, now: datetime):
    """(eligible, excluded, on shift), in one query: who may take the emergency (skills, shift
    now or starting before the response deadline, absence, an earlier failed visit to this
    request), why the others may not, and everyone working now (a visit the emergency displaces
    may go to any of them)."""
    eligible, excluded, on_shift = [], [], []
    until = response_deadline(request)
    for row in roster(tenant_id=request.tenant_id, request_id=request.pk, now=now, until=until):
        last = (row.last_lat, row.last_lon)
        if row.shift_end is not None and not row.absent:
            technician = OnShift(
                row.id,
                request.tenant_id,
                last if None not in last else (row.home_lat, row.home_lon),
                _name(row.first_name, row.last_name, row.username),
                frozenset(row.skills),
                row.shift_end,
            )
            on_shift.append(technician)
        if row.lacks_skills:
            reason = "skills"
        elif row.tried:  # there and could not finish (parts, skill, ...): someone else goes next
            reason = "could_not_complete_before"
        elif row.shift_end is None and row.next_start is None:
            reason = "off_shift"
        elif row.shift_end is None and row.absent_at_next_start:
            reason = "absent"
        elif row.shift_end is None:
            eligible.append(_starting_soon(row, request.tenant_id))
            continue
        elif row.absent:
            reason = "absent"
        else:
            eligible.append(technician)
            continue
        name = _name(row.first_name, row.last_name, row.username)
        excluded.append({"technician_id": row.id, "name": name, "reason": reason})
    return eligible, excluded, on_shift


def _starting_soon(row, tenant_id: int) -> OnShift:
    return OnShift(
        row.id,
        tenant_id,
        (row.home_lat, row.home_lon),
        _name(row.first_name, row.last_name, row.username),
        frozenset(row.skills),
        row.next_end,
        starts=row.next_start,
    )


def ready_for_emergency(tenant_id: int, now: datetime) -> dict:
    """When and where each technician of the tenant is ready for a new emergency: after the job
    in hand and the emergencies already waiting for them (they queue), in one query."""
    in_hand = {}
    for row in busy_visits(tenant_id=tenant_id, now=now):
        if row.status in IN_HAND:
            ready = free_at(row.status, row.planned_start, row.planned_end, now)
        else:
            ready = row.planned_end
        if row.technician_id not in in_hand or ready > in_hand[row.technician_id][0]:
            in_hand[row.technician_id] = (ready, (row.lat, row.lon))
    return in_hand


def rank_candidates(
    request: ServiceRequest, eligible: list[OnShift], excluded: list, *, now: datetime
):
    """(candidates best first, routes read); those who cannot take it are added to `excluded`."""
    travel = travel_for_tenant(request.tenant)
    point = (request.lat, request.lon)
    in_hand = ready_for_emergency(request.tenant_id, now)
    deadline = response_deadline(request)
    by_eta = []
    for technician in eligible:
        ready, position = in_hand.get(technician.pk, (now, technician.position))
        eta = max(ready, technician.starts or now) + timedelta(
            seconds=travel.seconds(position, point)
        )
        if technician.starts and eta > deadline:
            # Starts soon, but not soon enough to be there by the deadline from home.
            excluded.append(
                {
                    "technician_id": technician.pk,
                    "name": str(technician),
                    "reason": "starts_too_late",
                }
            )
            continue
        by_eta.append((eta, technician))
    by_eta.sort(key=lambda pair: (pair[0], pair[1].pk))
    # Routes are read soonest first: a dozen, then (if needed) the next batches in one read. The
    # ETA without the route is a lower bound of the real one (the route can only add emergencies
    # waiting ahead and pushed visits), so once the best candidate beats the bound of the next
    # technician, nobody unread can do better.
    routes, candidates = {}, []
    for first, last in ((0, MAX_ROUTES), (MAX_ROUTES, MAX_ROUTES * MAX_BATCHES)):
        batch = by_eta[first:last]
        if not batch or (candidates and min(c.score for c in candidates) <= batch[0][0]):
            break
        more = _routes_of([technician for _, technician in batch], now)
        routes.update(more)
        candidates += _insert_into(more.values(), request, travel, excluded)
    candidates.sort(key=lambda c: (c.score, c.insertion.eta))
    return candidates, routes


def _insert_into(routes, request: ServiceRequest, travel, excluded: list) -> list[Candidate]:
    """Try the emergency first in each route; those it cannot go into are added to `excluded`."""
    candidates = []
    for route in routes:
        insertion = insert_first(
            route,
            point=(request.lat, request.lon),
            minutes=request.estimated_minutes,
            travel=travel,
        )
        if insertion.blocked_by_pin:
            reason = "pinned_visit_in_the_way"
        elif insertion.eta + timedelta(minutes=request.estimated_minutes) > route.shift_end:
            reason = "shift_ends"
        else:
            candidates.append(Candidate(route, insertion))
            continue
        technician = route.technician
        excluded.append({"technician_id": technician.pk, "name": str(technician), "reason": reason})
    return candidates


def _claim(request_id: int, *, skip_locked: bool) -> bool:
    """Count the attempt on its own (committed at once), so a crash mid-assignment is still
    counted. One statement; the reconciler's way skips a row another worker holds. A request
    not escalated yet is tried at most ASSIGN_MAX_ATTEMPTS times, however many deliveries,
    retries and reconciler rounds ask (an escalated one is tried again until someone is free)."""
    waiting = ServiceRequest.objects.filter(pk=request_id, status__in=UNASSIGNED).filter(
        Q(status=Status.ESCALATED) | Q(assignment_attempts__lt=settings.ASSIGN_MAX_ATTEMPTS)
    )
    attempt = {"assignment_attempts": F("assignment_attempts") + 1}
    if not skip_locked:
        return waiting.update(**attempt) == 1
    with transaction.atomic():
        unlocked = waiting.select_for_update(skip_locked=True).values("pk")
        return ServiceRequest.objects.filter(pk__in=unlocked).update(**attempt) == 1


def request_assign(*, request_id: int, skip_locked: bool = False, now: datetime | None = None):
    """Assign an emergency; idempotent: returns early when the request is no longer waiting."""
    if not _claim(request_id, skip_locked=skip_locked):
        # Tried too often already (a request that fails every time): dispatchers take over.
        return request_escalate_stuck(request_id=request_id)
    with transaction.atomic():
        request = (
            ServiceRequest.objects.select_for_update(of=("self",))
            .select_related("tenant", "customer")
            # A request a dispatcher took back is theirs until they release it (as the reconciler).
            .filter(pk=request_id, status__in=UNASSIGNED, held=False)
            .first()
        )
        if request is None:
            return "skipped"
        now = now or timezone.now()
        eligible, excluded, on_shift = eligible_technicians(request, now=now)
        candidates, routes = rank_candidates(request, eligible, excluded, now=now)
        if not candidates:
            _record(request, None, "escalated", [], excluded, now)
            if request.status != Status.ESCALATED:
                request_transition(
                    request=request,
                    to=Status.ESCALATED,
                    reason=_("No qualified technician on shift can take it now."),
                )
                escalation_counted(reason="no_technician")
            return "escalated"
        chosen, technician = _lock_and_recheck(request, candidates[0], routes, now)
        with events_deferred():  # the whole change on screens at once, numbered last
            _apply(request, chosen, technician, routes, on_shift, now)
            _record(request, chosen.route.technician.pk, "assigned", candidates, excluded, now)
            assignment_counted(policy=POLICY)
        # The emergency pushed other visits around: let the planner tidy the day soon.
        followups.replan_soon(
            tenant_id=request.tenant_id, day=timezone.localdate(now, request.tenant.zone)
        )
        return "assigned"


def _lock_and_recheck(request, candidate: Candidate, routes, now) -> tuple[Candidate, Technician]:
    """Lock the technician (read as the model the visit is written with), then re-read their
    route: another worker may just have changed it. Locks are taken request → technician, the
    same order as the planner's."""
    on_shift = candidate.route.technician
    technician = _locked(on_shift.pk, skip_locked=False)
    fresh = _routes_of([on_shift], now)[on_shift.pk]
    routes[on_shift.pk] = fresh
    insertion = insert_first(
        fresh,
        point=(request.lat, request.lon),
        minutes=request.estimated_minutes,
        travel=travel_for_tenant(request.tenant),
    )
    return Candidate(fresh, insertion), technician


def _locked(technician_id: int, *, skip_locked: bool) -> Technician | None:
    """The technician's row, locked, with the user who names them; None when another worker
    holds it and `skip_locked`."""
    return (
        Technician.objects.select_for_update(of=("self",), skip_locked=skip_locked)
        .select_related("user")
        .filter(pk=technician_id)
        .first()
    )


def _apply(request, chosen: Candidate, technician: Technician, routes, on_shift, now) -> None:
    # The emergency's visit and the pushed ones are written in several statements; overlaps may
    # exist between two of them, so the no-overlap constraint is checked at commit.
    constraints_deferred(Constraint.VISIT_NO_OVERLAP)
    insertion = chosen.insertion
    legs_attach((leg for leg, _ in insertion.moved), technician=technician)  # written below
    broken = {leg.visit_id for leg in insertion.broken}
    elsewhere = None
    if broken:
        elsewhere = Elsewhere(request, routes, on_shift, chosen.route, insertion.broken, now)
        prefetch_related_objects([leg.visit.request for leg in insertion.broken], "required_skills")
    moves = []
    for leg, start in reversed(insertion.moved):
        if leg.visit_id in broken and elsewhere.rehome(leg.visit):
            continue
        moves.append((leg, start))
    legs_move(moves, cause=PromiseRisk.Cause.EMERGENCY_BREAK_IN)
    visit = visit_create(
        request=request,
        technician=technician,
        start=insertion.eta,
        end=insertion.eta + timedelta(minutes=request.estimated_minutes),
        travel_minutes=insertion.travel_seconds / 60,
        reason=_("Automatic: on site soonest (ETA %(eta)s min)")
        % {"eta": round((insertion.eta - now).total_seconds() / 60)},
        emit=False,
    )
    request_changed(request=request, visit=visit)  # with the visit in hand: not read again


class Elsewhere:
    """Where displaced visits may go: first the routes the ranking read (technicians near the
    emergency, so near its route); only when a visit fits none of them, the routes of the
    nearest others on shift too (read once). A displaced visit may need other skills than the
    emergency, so anyone on shift may take it."""

    def __init__(
        self, request, routes: dict, on_shift: list[OnShift], source: LiveRoute, legs, now
    ):
        self.source, self.legs, self.now = source, legs, now
        self.routes, self.on_shift = dict(routes), on_shift
        self.travel = travel_for_tenant(request.tenant)
        self.widened = False

    def rehome(self, visit: Visit) -> bool:
        if _move_elsewhere(visit, self, self.now):
            return True
        # A dozen qualified technicians nearby had no room: in a busy city the next dozen
        # will not either (and reading them would slow every emergency of a storm).
        return (
            self.qualified(visit) < MAX_ROUTES
            and self._widen()
            and _move_elsewhere(visit, self, self.now)
        )

    def qualified(self, visit: Visit) -> int:
        needed = {skill.pk for skill in visit.request.required_skills.all()}
        return sum(
            1
            for route in self.routes.values()
            if route is not self.source and needed <= route.technician.skills
        )

    def _widen(self) -> bool:
        """Read the routes of the dozen others on shift nearest the displaced visits."""
        if self.widened:
            return False
        self.widened = True
        points = [leg.point for leg in self.legs]
        unread = [t for t in self.on_shift if t.pk not in self.routes]
        nearest = sorted(
            unread,
            key=lambda t: (min(haversine_km(*t.position, *point) for point in points), t.pk),
        )[:MAX_ROUTES]
        self.routes.update(_routes_of(nearest, self.now))
        return bool(nearest)


def _move_elsewhere(visit: Visit, elsewhere: Elsewhere, now) -> bool:
    """Give a displaced visit to another technician who has room inside its window."""
    request = visit.request
    if request.window_start is None or visit.status != Visit.Status.SCHEDULED:
        return False
    needed = {skill.pk for skill in request.required_skills.all()}
    travel = elsewhere.travel
    minutes = round((visit.planned_end - visit.planned_start).total_seconds() / 60)
    options = []
    for route in elsewhere.routes.values():
        if route is elsewhere.source or not needed <= route.technician.skills:
            continue
        gap = find_gap(
            route,
            point=(request.lat, request.lon),
            minutes=minutes,
            window=(request.window_start, request.window_end),
            travel=travel,
        )
        if gap is not None:
            options.append((gap.start, route))
    for start, route in sorted(options, key=lambda option: option[0]):
        # Never wait for a technician another worker is planning: try the next one.
        technician = _locked(route.technician.pk, skip_locked=True)
        if technician is None:
            continue
        visit.technician = technician
        visit.planned_start, visit.planned_end = start, start + timedelta(minutes=minutes)
        visit.save(update_fields=["technician", "planned_start", "planned_end", "updated_at"])
        # The next displaced visit must see this one in the route, or both take the same gap.
        route.legs.append(
            Leg(
                visit_id=visit.pk,
                visit=visit,
                point=(request.lat, request.lon),
                start=start,
                end=visit.planned_end,
                window_end=request.window_end,
                pinned=False,
                urgent=request.kind == ServiceRequest.Kind.EMERGENCY,
            )
        )
        route.legs.sort(key=lambda leg: leg.start)
        request_changed(request=request, visit=visit)
        return True
    return False


def _record(request, technician_id, outcome, candidates, excluded, now) -> None:
    Decision.objects.create(
        tenant_id=request.tenant_id,
        request=request,
        technician_id=technician_id,
        policy=POLICY,
        outcome=outcome,
        candidates=[c.as_json(now) for c in candidates[:10]],
        excluded=excluded[:EXCLUDED_SAMPLE]
        + ([{"more": len(excluded) - EXCLUDED_SAMPLE}] if len(excluded) > EXCLUDED_SAMPLE else []),
    )
