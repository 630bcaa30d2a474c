"""A technician's remaining route today, and what inserting a job into it does to the rest.

A `Route` is read from the live visits: the job in hand (en route or on site, or already
started by the plan) fixes when and where the technician is next free; the visits after it are
`legs` that can be pushed later. Pushing a leg past its agreed window breaks a promise; those
legs are reported so the caller can move them or warn the customer.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q

from technicians.models import Technician, Visit

Point = tuple[float, float]


@dataclass
class Leg:
    visit: Visit
    point: Point
    start: datetime
    end: datetime
    window_end: datetime | None
    pinned: bool

    @property
    def minutes(self) -> timedelta:
        return self.end - self.start


@dataclass
class Route:
    technician: Technician
    shift_end: datetime
    free_at: datetime
    position: Point
    legs: list[Leg] = field(default_factory=list)


@dataclass
class Insertion:
    """The effect of putting a job first in a route: its ETA and the legs that move."""

    eta: datetime
    travel_seconds: int
    moved: list[tuple[Leg, datetime]]  # leg → its new start
    broken: list[Leg]  # legs whose agreed window (or the shift) can no longer be kept
    blocked_by_pin: bool


def load_routes(technicians: Iterable[Technician], *, now: datetime, shift_ends: dict) -> dict:
    """Routes of the given technicians from `now` on, in two queries."""
    technicians = list(technicians)
    visits = defaultdict(list)
    for visit in (
        Visit.objects.filter(technician__in=technicians)
        .filter(live_after(now))
        .select_related("request")
        .order_by("planned_start")
    ):
        visits[visit.technician_id].append(visit)
    return {
        technician.pk: _route(technician, visits[technician.pk], now, shift_ends[technician.pk])
        for technician in technicians
    }


IN_HAND = (Visit.Status.EN_ROUTE, Visit.Status.ON_SITE)


def live_after(now: datetime) -> Q:
    """Live visits that still hold time after `now`: running or ahead, and those overdue but not
    started yet (they hold their place in the route until they are done or moved)."""
    return Q(status__in=Visit.ACTIVE) & (
        Q(planned_end__gt=now)
        | Q(
            status__in=(Visit.Status.SCHEDULED, Visit.Status.ACCEPTED),
            planned_start__gt=now - timedelta(days=1),
        )
    )


def free_after(visit: Visit, now: datetime) -> datetime:
    """When the technician will be done with the job in hand. A job running late is not done at
    its planned end: on site it takes at least until now; en route, the whole job is still
    ahead."""
    if visit.status == Visit.Status.EN_ROUTE:
        return max(visit.planned_end, now + (visit.planned_end - visit.planned_start))
    return max(visit.planned_end, now)


def _route(technician: Technician, visits: list[Visit], now: datetime, shift_end) -> Route:
    route = Route(technician, shift_end, now, technician.position)
    for visit in visits:
        request = visit.request
        if visit.status in IN_HAND:
            route.free_at = max(route.free_at, free_after(visit, now))
            route.position = (request.lat, request.lon)
            continue
        route.legs.append(
            Leg(
                visit=visit,
                point=(request.lat, request.lon),
                start=visit.planned_start,
                end=visit.planned_end,
                window_end=request.window_end,
                # The technician has accepted it or a dispatcher pinned it: it keeps its time.
                pinned=visit.pinned,
            )
        )
    return route


def push_legs(
    route: Route, *, clock: datetime, here: Point, travel, respect_pins: bool = True
) -> tuple[list[tuple[Leg, datetime]], list[Leg], bool]:
    """Re-time the legs after a technician is busy until `clock` at `here`: each leg starts no
    earlier than planned, later if the technician cannot be there in time. Returns (moved legs
    with their new starts, legs whose window or shift breaks, blocked by a pinned leg)."""
    moved, broken = [], []
    for leg in route.legs:
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


def leg_move(leg: Leg, start: datetime) -> None:
    """Write a pushed leg's new time, and tell screens; when the new time misses the agreed
    window, the request is flagged at risk and its customer told."""
    from requests_app.services import request_changed, request_flag_window_risk

    visit = leg.visit
    visit.planned_start, visit.planned_end = start, start + leg.minutes
    visit.save(update_fields=["planned_start", "planned_end", "updated_at"])
    if leg.window_end is not None and start > leg.window_end:
        request_flag_window_risk(request=visit.request, visit=visit)
    else:
        request_changed(request=visit.request, visit=visit)


def insert_first(route: Route, *, point: Point, minutes: int, travel) -> Insertion:
    """Put a job right after the job in hand; push the later legs as far as needed."""
    travel_seconds = travel.seconds(route.position, point)
    eta = route.free_at + timedelta(seconds=travel_seconds)
    moved, broken, blocked = push_legs(
        route, clock=eta + timedelta(minutes=minutes), here=point, travel=travel
    )
    return Insertion(eta, travel_seconds, moved, broken, blocked)


def find_gap(route: Route, *, point: Point, minutes: int, window: tuple, travel) -> datetime | None:
    """The earliest start for a job in this route's idle time, inside `window`, moving nothing."""
    length = timedelta(minutes=minutes)
    stops = [(route.free_at, route.position)] + [(leg.end, leg.point) for leg in route.legs]
    nexts = [(leg.start, leg.point) for leg in route.legs] + [(route.shift_end, None)]
    for (free, here), (busy, there) in zip(stops, nexts, strict=True):
        start = max(free + timedelta(seconds=travel.seconds(here, point)), window[0])
        end = start + length
        back = timedelta(seconds=travel.seconds(point, there)) if there else timedelta()
        if start <= window[1] and end + back <= busy:
            return start
    return None
