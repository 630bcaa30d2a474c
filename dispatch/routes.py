"""A technician's remaining route today, and what inserting a job into it does to the rest.

A `LiveRoute` is read from the live visits: the job in hand (en route or on site, or already
started by the plan) fixes when and where the technician is next free; the visits after it are
`legs` that can be pushed later. Pushing a leg past its agreed window breaks a promise; those
legs are reported so the caller can move them or warn the customer.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.events import Change, events_emit
from dispatch.reads import IN_HAND, RouteVisit, live_visits, visits_retime
from requests_app.payloads import request_payload
from requests_app.services import requests_flag_window_risk, requests_version_raise
from technicians.models import Technician, Visit

Point = tuple[float, float]


@dataclass(slots=True)
class Leg:
    """A visit ahead in a route, as the values routing needs. The model instance (`visit`) is
    read only for legs that move (`legs_attach`): routes are read by the dozen per decision."""

    point: Point
    start: datetime
    end: datetime
    window_end: datetime | None
    pinned: bool
    urgent: bool = False  # an emergency not started yet: a later emergency queues behind it
    visit_id: int | None = None
    visit: Visit | None = None

    @property
    def minutes(self) -> timedelta:
        return self.end - self.start


@dataclass(slots=True)
class LiveRoute:
    technician: Technician
    shift_end: datetime
    free_at: datetime
    position: Point
    legs: list[Leg] = field(default_factory=list)


@dataclass(slots=True)
class Insertion:
    """The effect of putting a job first in a route: its ETA and the legs that move."""

    eta: datetime
    travel_seconds: int
    moved: list[tuple[Leg, datetime]]  # leg → its new start
    broken: list[Leg]  # legs whose agreed window (or the shift) can no longer be kept
    blocked_by_pin: bool


def load_routes(
    technicians: Iterable[Technician],
    *,
    now: datetime,
    shift_ends: dict,
    starts: dict | None = None,
) -> dict:
    """Routes of the given technicians from `now` on, in one query, as plain values. `starts`
    names those whose shift has not started yet: they are free from its start, at home."""
    starts = starts or {}
    technicians = {technician.pk: technician for technician in technicians}
    visits = defaultdict(list)
    for row in live_visits(list(technicians), now=now):
        visits[row.technician_id].append(row)
    return {
        pk: _route(technician, visits[pk], max(now, starts.get(pk, now)), shift_ends[pk])
        for pk, technician in technicians.items()
    }


def legs_attach(legs: Iterable[Leg], *, technician=None) -> None:
    """Read the visits of these legs (with what their live events show), in one query. The
    caller's `technician`, when the legs are in that technician's route, is shared by the
    visits rather than read again."""
    missing = {leg.visit_id: leg for leg in legs if leg.visit is None}
    if not missing:
        return
    # The customer and tenant name the messages to a customer whose window a move breaks.
    related = ["request__customer", "request__tenant"]
    if technician is None:
        related.append("technician__user")
    found = Visit.objects.select_related(*related).in_bulk(list(missing))
    for visit_id, leg in missing.items():
        visit = leg.visit = found[visit_id]
        if technician is not None and visit.technician_id == technician.pk:
            visit.technician = technician


def free_after(visit: Visit, now: datetime) -> datetime:
    """When the technician will be done with the job in hand. A job running late is not done at
    its planned end: on site it takes at least until now; en route, the whole job is still
    ahead."""
    return free_at(visit.status, visit.planned_start, visit.planned_end, now)


def free_at(status: str, start: datetime, end: datetime, now: datetime) -> datetime:
    if status == Visit.Status.EN_ROUTE:
        return max(end, now + (end - start))
    return max(end, now)


def _route(technician: Technician, visits: list[RouteVisit], now: datetime, shift_end) -> LiveRoute:
    route = LiveRoute(technician, shift_end, now, technician.position)
    legs = route.legs
    for visit_id, _, status, start, end, pinned, lat, lon, window_end, kind in visits:
        if status in IN_HAND:
            route.free_at = max(route.free_at, free_at(status, start, end, now))
            route.position = (lat, lon)
            continue
        # A pinned leg keeps its time; an emergency not started yet is urgent (others queue).
        legs.append(Leg((lat, lon), start, end, window_end, pinned, kind == "emergency", visit_id))
    return route


def push_legs(
    route: LiveRoute,
    *,
    clock: datetime,
    here: Point,
    travel,
    respect_pins: bool = True,
    skip: int = 0,
) -> tuple[list[tuple[Leg, datetime]], list[Leg], bool]:
    """Re-time the legs (after the first `skip`) once a technician is busy until `clock` at
    `here`: each leg starts no earlier than planned, later if the technician cannot be there in
    time. Returns (moved legs with their new starts, legs whose window or shift breaks, blocked
    by a pinned leg)."""
    moved, broken = [], []
    for leg in route.legs[skip:]:
        arrival = clock + timedelta(seconds=travel.seconds(here, leg.point))
        if arrival <= leg.start:
            break  # enough slack: this leg and all later ones keep their times
        if leg.pinned and respect_pins:
            return moved, broken, True
        moved.append((leg, arrival))
        end = arrival + leg.minutes
        if (leg.window_end and arrival > leg.window_end) or end > route.shift_end:
            broken.append(leg)
        clock, here = end, leg.point
    return moved, broken, False


def legs_move(moves: list[tuple[Leg, datetime]], *, cause: str) -> None:
    """Write pushed legs' new times in one statement and tell screens in one batch of events;
    a leg whose new time misses its agreed window is flagged at risk and its customer told,
    and why it was pushed (`PromiseRisk.Cause`) is recorded for the KPI reports."""
    if not moves:
        return
    legs_attach(leg for leg, _ in moves)
    for leg, start in moves:
        leg.visit.planned_start, leg.visit.planned_end = start, start + leg.minutes
    visits_retime([leg.visit for leg, _ in moves], now=timezone.now())
    changes, late = [], []
    # The late ones' versions are raised by `requests_flag_window_risk`.
    requests_version_raise(
        leg.visit.request
        for leg, start in moves
        if leg.window_end is None or start <= leg.window_end
    )
    for leg, start in moves:
        visit = leg.visit
        if leg.window_end is not None and start > leg.window_end:
            late.append((visit.request, visit))
        else:
            payload = request_payload(visit.request, visit)
            changes.append(Change("request.updated", payload, visit.technician_id))
    if late:
        requests_flag_window_risk(late, changes=changes, cause=cause)
    else:
        events_emit(tenant_id=moves[0][0].visit.tenant_id, changes=changes)


def insert_first(route: LiveRoute, *, point: Point, minutes: int, travel) -> Insertion:
    """Put a job right after the job in hand; push the later legs as far as needed. When that
    would delay emergencies already waiting for this technician, the job queues behind them
    instead (first come, first served: a new emergency never pushes an earlier one back)."""
    head = _insert_after(route, 0, route.free_at, route.position, point, minutes, travel)
    if not any(leg.urgent for leg, _ in head.moved):
        return head
    ready, here, queued = route.free_at, route.position, 0
    for leg in route.legs:
        if not leg.urgent:
            break
        ready, here, queued = max(ready, leg.end), leg.point, queued + 1
    return _insert_after(route, queued, ready, here, point, minutes, travel)


def _insert_after(route, skip, ready, here, point, minutes, travel) -> Insertion:
    travel_seconds = travel.seconds(here, point)
    eta = ready + timedelta(seconds=travel_seconds)
    moved, broken, blocked = push_legs(
        route, clock=eta + timedelta(minutes=minutes), here=point, travel=travel, skip=skip
    )
    return Insertion(eta, travel_seconds, moved, broken, blocked)


@dataclass(frozen=True)
class Gap:
    start: datetime
    detour_seconds: int  # travel added to the route by fitting the job here


def find_gap(
    route: LiveRoute,
    *,
    point: Point,
    minutes: int,
    window: tuple,
    travel,
    end_point: Point | None = None,
) -> Gap | None:
    """The earliest start for a job in this route's idle time, inside `window`, moving nothing.
    With `end_point` (home) the technician must also be back there by the shift end."""
    length = timedelta(minutes=minutes)
    stops = [(route.free_at, route.position)] + [(leg.end, leg.point) for leg in route.legs]
    nexts = [(leg.start, leg.point) for leg in route.legs] + [(route.shift_end, end_point)]
    for (free, here), (busy, there) in zip(stops, nexts, strict=True):
        if max(free, window[0]) > window[1] or max(free, window[0]) + length > busy:
            continue  # too late or too short even with no travel: skip the travel arithmetic
        to_job = travel.seconds(here, point)
        start = max(free + timedelta(seconds=to_job), window[0])
        end = start + length
        from_job = travel.seconds(point, there) if there else 0
        if start <= window[1] and end + timedelta(seconds=from_job) <= busy:
            direct = travel.seconds(here, there) if there else 0
            return Gap(start, to_job + from_job - direct)
    return None


def latest_arrival(
    window_end: datetime, now: datetime, *, margin_minutes: int | None = None
) -> datetime:
    """Plans aim to arrive a margin before the promised end, so ordinary delays keep the
    promise. The margin shrinks to a quarter of the time left as the end nears: a fixed one
    would turn "still on time" into "left out" (measured in bench/day). Booking and planning
    use the same rule, so a window that was offered can be planned. The margin is the
    tenant's `window_margin_minutes`; without one, the PLAN_WINDOW_BUFFER_MINUTES setting."""
    if margin_minutes is None:
        margin_minutes = settings.PLAN_WINDOW_BUFFER_MINUTES
    left = max(timedelta(0), window_end - now)
    return window_end - min(timedelta(minutes=margin_minutes), left / 4)


def working_window(shift, absences, now: datetime) -> tuple[datetime, datetime] | None:
    """The part of a shift still to work, cut by absences; None when nothing is left."""
    start, end = max(shift.start, now), shift.end
    for absence in absences:
        if absence.start <= start < absence.end:
            start = absence.end
        elif start < absence.start < end:
            end = absence.start
    return (start, end) if start < end else None
