"""Emergency assignment: the qualified technician on shift who can be on site soonest.

ETA = when the technician is free (end of the job in hand) + travel from there. The emergency
goes right after the job in hand; later visits are pushed. A visit pushed past its agreed window
is moved to another technician with room for it inside the window, or else flagged as at risk
and its customer told. Breaking a promise costs the candidate `BROKEN_WINDOW_PENALTY` in the
ranking (bench/day: 30 min slowed emergencies, p90 30 → 96 min, and saved no window), so a
slightly later technician who breaks nothing wins over one who does.

Every decision is stored with the ranked candidates and the reasons the others were excluded.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.db.models import F, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core import followups
from core.db import Constraint, constraints_deferred
from core.events import events_deferred
from core.geo import haversine_km
from dispatch.models import Decision
from dispatch.routes import (
    IN_HAND,
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
from requests_app.models import ServiceRequest
from requests_app.services import request_changed, request_transition
from requests_app.states import UNASSIGNED, Status
from technicians.models import Absence, Shift, Technician, Visit
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
    them all and the routes of dozens, so a model instance is made (`model`) only for the one
    chosen and those displaced visits move to."""

    pk: int
    tenant_id: int
    position: tuple[float, float]
    home: tuple[float, float]
    last: tuple[float | None, float | None]
    user: tuple[int, str, str, str]  # id, first and last name, username
    skills: frozenset[int]
    shift_end: datetime

    def __str__(self) -> str:
        return _name(*self.user[1:])

    def model(self) -> Technician:
        user_id, first, last, username = self.user
        technician = Technician(
            id=self.pk,
            tenant_id=self.tenant_id,
            user_id=user_id,
            home_lat=self.home[0],
            home_lon=self.home[1],
            last_lat=self.last[0],
            last_lon=self.last[1],
        )
        technician.user = User(
            id=user_id,
            tenant_id=self.tenant_id,
            first_name=first,
            last_name=last,
            username=username,
        )
        for instance in (technician, technician.user):  # as if read from the database
            instance._state.adding, instance._state.db = False, DEFAULT_DB_ALIAS
        return technician


def _routes_of(technicians: list[OnShift], now: datetime) -> dict:
    shift_ends = {technician.pk: technician.shift_end for technician in technicians}
    return load_routes(technicians, now=now, shift_ends=shift_ends)


def _name(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def eligible_technicians(request: ServiceRequest, *, now: datetime):
    """(eligible, excluded, on shift), in one query: who may take the emergency (skills, shift,
    absence, an earlier failed visit to this request), why the others may not, and everyone
    working now (a visit the emergency displaces may go to any of them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _ROSTER_SQL,
            {
                "tenant": request.tenant_id,
                "request": request.pk,
                "now": now,
                "not_completed": Visit.Status.NOT_COMPLETED,
            },
        )
        rows = cursor.fetchall()
    eligible, excluded, on_shift = [], [], []
    for row in rows:
        pk, home_lat, home_lon, lat, lon, user_id, first, last, username, *checks = row
        lacks_skills, tried, absent, shift_end, skills = checks
        if shift_end is not None and not absent:
            position = (lat, lon) if lat is not None and lon is not None else (home_lat, home_lon)
            technician = OnShift(
                pk,
                request.tenant_id,
                position,
                (home_lat, home_lon),
                (lat, lon),
                (user_id, first, last, username),
                frozenset(skills),
                shift_end,
            )
            on_shift.append(technician)
        if lacks_skills:
            reason = "skills"
        elif tried:  # there and could not finish (parts, skill, ...): someone else goes next
            reason = "could_not_complete_before"
        elif shift_end is None:
            reason = "off_shift"
        elif absent:
            reason = "absent"
        else:
            eligible.append(technician)
            continue
        excluded.append(
            {"technician_id": pk, "name": _name(first, last, username), "reason": reason}
        )
    return eligible, excluded, on_shift


def _table(model) -> str:
    return model._meta.db_table


# Every emergency reads the whole roster: written once in SQL rather than compiled by the ORM
# each time (that cost more than running it).
_ROSTER_SQL = f"""
    SELECT technician.id, technician.home_lat, technician.home_lon,
           technician.last_lat, technician.last_lon,
           account.id, account.first_name, account.last_name, account.username,
           EXISTS (
               SELECT 1 FROM {_table(ServiceRequest.required_skills.through)} AS needed
               WHERE needed.servicerequest_id = %(request)s
                 AND needed.skill_id NOT IN (
                     SELECT has.skill_id FROM {_table(Technician.skills.through)} AS has
                     WHERE has.technician_id = technician.id)
           ) AS lacks_skills,
           EXISTS (
               SELECT 1 FROM {_table(Visit)} AS visit
               WHERE visit.request_id = %(request)s AND visit.technician_id = technician.id
                 AND visit.status = %(not_completed)s
           ) AS tried,
           EXISTS (
               SELECT 1 FROM {_table(Absence)} AS absence
               WHERE absence.technician_id = technician.id
                 AND absence.start <= %(now)s AND absence."end" > %(now)s
           ) AS absent,
           (
               SELECT max(shift."end") FROM {_table(Shift)} AS shift
               WHERE shift.technician_id = technician.id
                 AND shift.start <= %(now)s AND shift."end" > %(now)s
           ) AS shift_end,
           ARRAY(
               SELECT has.skill_id FROM {_table(Technician.skills.through)} AS has
               WHERE has.technician_id = technician.id
           ) AS skills
    FROM {_table(Technician)} AS technician
    JOIN {_table(User)} AS account ON account.id = technician.user_id
    WHERE technician.tenant_id = %(tenant)s AND technician.active
"""  # noqa: S608 — table names from the models; values are parameters


def ready_for_emergency(tenant_id: int, now: datetime) -> dict:
    """When and where each technician of the tenant is ready for a new emergency: after the job
    in hand and the emergencies already waiting for them (they queue), in one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            _READY_SQL,
            {
                "tenant": tenant_id,
                "now": now,
                "in_hand": list(IN_HAND),
                "emergency": ServiceRequest.Kind.EMERGENCY,
                # A waiting emergency is assigned (its visit scheduled) or accepted.
                "waiting_requests": [Status.ASSIGNED, Status.ACCEPTED],
                "waiting_visits": [Visit.Status.SCHEDULED, Visit.Status.ACCEPTED],
            },
        )
        rows = cursor.fetchall()
    in_hand = {}
    for technician_id, status, start, end, lat, lon in rows:
        ready = free_at(status, start, end, now) if status in IN_HAND else end
        if technician_id not in in_hand or ready > in_hand[technician_id][0]:
            in_hand[technician_id] = (ready, (lat, lon))
    return in_hand


# Two halves, each on its partial index (visit_in_hand, request_emergency_waiting); of the
# emergencies waiting for a technician only the last counts (a storm queues hundreds).
_READY_SQL = f"""
    (SELECT visit.technician_id, visit.status, visit.planned_start, visit.planned_end,
            request.lat, request.lon
     FROM {_table(Visit)} AS visit
     JOIN {_table(ServiceRequest)} AS request ON request.id = visit.request_id
     WHERE visit.tenant_id = %(tenant)s AND visit.status = ANY(%(in_hand)s))
    UNION ALL
    (SELECT DISTINCT ON (visit.technician_id)
            visit.technician_id, visit.status, visit.planned_start, visit.planned_end,
            request.lat, request.lon
     FROM {_table(ServiceRequest)} AS request
     JOIN {_table(Visit)} AS visit ON visit.request_id = request.id
     WHERE request.tenant_id = %(tenant)s AND request.kind = %(emergency)s
       AND request.status = ANY(%(waiting_requests)s)
       AND visit.status = ANY(%(waiting_visits)s) AND visit.planned_end > %(now)s
     ORDER BY visit.technician_id, visit.planned_end DESC)
"""  # noqa: S608 — table names from the models; values are parameters


def rank_candidates(
    request: ServiceRequest, eligible: list[OnShift], excluded: list, *, now: datetime
):
    """(candidates best first, routes read); those who cannot take it are added to `excluded`."""
    travel = travel_for_tenant(request.tenant)
    point = (request.lat, request.lon)
    in_hand = ready_for_emergency(request.tenant_id, now)
    by_eta = []
    for technician in eligible:
        ready, position = in_hand.get(technician.pk, (now, technician.position))
        by_eta.append((ready + timedelta(seconds=travel.seconds(position, point)), technician))
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
    counted. One statement; the reconciler's way skips a row another worker holds."""
    waiting = ServiceRequest.objects.filter(pk=request_id, status__in=UNASSIGNED)
    attempt = {"assignment_attempts": F("assignment_attempts") + 1}
    if not skip_locked:
        return waiting.update(**attempt) == 1
    with transaction.atomic():
        unlocked = waiting.select_for_update(skip_locked=True).values("pk")
        return ServiceRequest.objects.filter(pk__in=unlocked).update(**attempt) == 1


def request_assign(*, request_id: int, skip_locked: bool = False, now: datetime | None = None):
    """Assign an emergency; idempotent: returns early when the request is no longer waiting."""
    if not _claim(request_id, skip_locked=skip_locked):
        return "skipped"
    with transaction.atomic():
        request = (
            ServiceRequest.objects.select_for_update(of=("self",))
            .select_related("tenant", "customer")
            .filter(pk=request_id, status__in=UNASSIGNED)
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
            return "escalated"
        chosen = _lock_and_recheck(request, candidates[0], routes, now)
        with events_deferred():  # the whole change on screens at once, numbered last
            _apply(request, chosen, routes, on_shift, now)
            _record(request, chosen.route.technician.pk, "assigned", candidates, excluded, now)
        # The emergency pushed other visits around: let the planner tidy the day soon.
        followups.replan_soon(
            tenant_id=request.tenant_id, day=timezone.localdate(now, request.tenant.zone)
        )
        return "assigned"


def _lock_and_recheck(request, candidate: Candidate, routes, now) -> Candidate:
    """Lock the technician, then re-read their route: another worker may just have changed it.
    Locks are taken request → technician, the same order as the planner's."""
    technician = candidate.route.technician
    list(Technician.objects.select_for_update().filter(pk=technician.pk).values_list("pk"))
    fresh = _routes_of([technician], now)[technician.pk]
    routes[technician.pk] = fresh
    insertion = insert_first(
        fresh,
        point=(request.lat, request.lon),
        minutes=request.estimated_minutes,
        travel=travel_for_tenant(request.tenant),
    )
    return Candidate(fresh, insertion)


def _apply(request, chosen: Candidate, routes, on_shift: list[OnShift], now) -> None:
    # The emergency's visit and the pushed ones are written in several statements; overlaps may
    # exist between two of them, so the no-overlap constraint is checked at commit.
    constraints_deferred(Constraint.VISIT_NO_OVERLAP)
    insertion = chosen.insertion
    technician = chosen.route.technician.model()
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
    legs_move(moves)
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
        if (
            not Technician.objects.select_for_update(skip_locked=True)
            .filter(pk=route.technician.pk)
            .exists()
        ):
            continue
        visit.technician = route.technician.model()
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
