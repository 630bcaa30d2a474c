"""Arrival windows a customer can be offered, and booking one against real capacity.

A window is offered when a qualified technician on shift has idle time in it for the job: the
travel from the stop before and to the stop after (home at the shift end) fit, after the work
already booked, and the lunch break still fits in the day. Booking walks the same path under a
lock per tenant and day, re-checks the chosen technician under their row lock and writes the
visit: capacity is held by a visit in a route, so two bookings can never take the same idle
time (and the no-overlap constraint would refuse it anyway).

Offers are graded, best first: the fewest minutes of extra driving, then an even load across
technicians, then the earliest time.
"""

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Tenant
from core.db import LockScope, advisory_xact_lock
from core.errors import Conflict
from dispatch.reads import IN_HAND, RouteVisit, could_not_finish
from dispatch.routes import (
    Gap,
    Leg,
    LiveRoute,
    find_gap,
    free_after,
    latest_arrival,
    working_window,
)
from dispatch.travel import travel_for_tenant
from requests_app.states import Status
from technicians.models import Absence, Shift, Technician, Visit
from technicians.services import visit_create

Point = tuple[float, float]
# Score weights, in minutes of extra driving: a fully booked technician counts like 30 minutes
# more driving, and each day later like 10 (customers prefer sooner, all else equal).
LOAD_WEIGHT = 30.0
DAY_WEIGHT = 10.0
MAX_DAYS = 31
# A booking reads the days of the technicians living nearest the job first (this many), and
# weighs the first few that fit (nearest day first), not everyone on shift; the debounced
# re-plan after it optimises the routes.
NEAREST_FIRST = 16
BOOKING_CHOICES = 4
# A degree of longitude is this many degrees of latitude long at Almaty-like latitudes (43°N):
# for "who is nearer" orderings, not distances.
LON_SCALE = 0.73


@dataclass(frozen=True)
class JobToBook:
    """What is to be placed: where, for how long, needing which skills."""

    point: Point
    minutes: int
    skills: frozenset[str]


@dataclass
class DayRoute:
    route: LiveRoute
    home: Point
    booked_minutes: float
    capacity_minutes: float  # the working time left, less the lunch break
    shift: Shift
    working: tuple[datetime, datetime]  # the part of the shift still to work

    @property
    def load(self) -> float:
        return self.booked_minutes / self.capacity_minutes if self.capacity_minutes else 1.0


@dataclass(frozen=True)
class Placement:
    day_route: DayRoute
    gap: Gap

    @property
    def technician(self) -> Technician:
        return self.day_route.route.technician

    @property
    def load(self) -> float:
        return self.day_route.load

    @property
    def cost(self) -> float:
        return self.gap.detour_seconds / 60 + LOAD_WEIGHT * self.load


@dataclass
class Offer:
    start: datetime
    end: datetime
    technicians: int
    detour_minutes: float
    load: float
    score: float
    recommended: bool = False


def window_grid(tenant: Tenant, day: date) -> list[tuple[datetime, datetime]]:
    """The tenant's windows of a day: back to back, `window_hours` long, within the hours
    planned visits are offered (08:00–20:00 local by default: a night crew on shift does not
    make 22:00 a time to install a line)."""
    hours = max(1, min(tenant.window_hours, 24))
    first, last = tenant.visit_hours_start, min(tenant.visit_hours_end, 24)
    origin = datetime.combine(day, time(0), tzinfo=tenant.zone)
    return [
        (origin + timedelta(hours=h), origin + timedelta(hours=h + hours))
        for h in range(first, last - hours + 1, hours)
    ]


def windows_offered(
    *, tenant: Tenant, job: JobToBook, date_from: date, date_to: date, now: datetime | None = None
) -> list[Offer]:
    """Windows with room for the job, best first."""
    now = now or timezone.now()
    earliest = now + timedelta(minutes=tenant.booking_lead_minutes)
    travel = travel_for_tenant(tenant)
    offers = []
    days = (date_to - date_from).days + 1
    for offset in range(max(0, min(days, MAX_DAYS))):
        day = date_from + timedelta(days=offset)
        grid = [w for w in window_grid(tenant, day) if w[0] >= earliest]
        if not grid:
            continue
        routes = day_routes(tenant=tenant, day=day, skills=job.skills, now=now)
        for window in grid:
            placements = _placements(
                routes, job, window, travel, now, margin=tenant.window_margin_minutes
            )
            if not placements:
                continue
            best = placements[0]
            days_ahead = (day - timezone.localdate(now, tenant.zone)).days
            offers.append(
                Offer(
                    start=window[0],
                    end=window[1],
                    technicians=len(placements),
                    detour_minutes=round(best.gap.detour_seconds / 60, 1),
                    load=round(best.load, 2),
                    score=round(best.cost + DAY_WEIGHT * max(0, days_ahead), 2),
                )
            )
    offers.sort(key=lambda offer: (offer.score, offer.start))
    for offer in offers[:3]:
        offer.recommended = True
    return offers


def window_reserve(
    *,
    request,
    skills: frozenset[str] | None = None,
    emit: bool = True,
    now: datetime | None = None,
) -> Visit:
    """Hold capacity for a request's agreed window: a visit with a technician who still has
    room. Raises Conflict when nobody has (the window was taken meanwhile).

    Booking keeps the promise, the planner makes the route good: of the technicians whose day
    passes nearest, the cheapest of the first few that fit takes the visit (the debounced
    re-plan after the booking may hand it to another). `skills` are the request's skill codes
    when the caller has them; `emit=False` leaves the live event to the caller."""
    now = now or timezone.now()
    tenant = request.tenant
    start, end = request.window_start, request.window_end
    day = timezone.localdate(start, tenant.zone)
    # Bookings of one tenant and day take turns; held to commit, so the next one sees this visit.
    advisory_xact_lock(LockScope.WINDOW_BOOKING, tenant.pk, day.isoformat())
    job = JobToBook(
        point=(request.lat, request.lon),
        minutes=request.estimated_minutes,
        skills=frozenset(request.required_skills.values_list("code", flat=True))
        if skills is None
        else skills,
    )
    travel = travel_for_tenant(tenant)
    read: set[int] = set()
    if request.status == Status.RESCHEDULED:
        # Only a request waiting for a new window can have had a visit that could not complete:
        # who failed in this window is not sent back into it (nor counted as read).
        failed = could_not_finish(request_ids=[request.pk]).get(request.pk, set())
    else:
        failed = set()
    # The technicians living nearest first; only when none of them has room, everyone else.
    for limit in (NEAREST_FIRST, None):
        routes = day_routes(
            tenant=tenant,
            day=day,
            skills=job.skills,
            now=now,
            during=(start, end),
            near=job.point,
            limit=limit,
            exclude=read | failed,
        )
        read.update(day_route.route.technician.pk for day_route in routes)
        routes.sort(key=lambda day_route: _distance_to_day(day_route, job.point))
        for placement in _placements(
            routes,
            job,
            (start, end),
            travel,
            now,
            enough=BOOKING_CHOICES,
            margin=tenant.window_margin_minutes,
        ):
            visit = _book(placement, request, job, travel, now, emit=emit)
            if visit is not None:
                return visit
    raise Conflict(
        _("This arrival window is no longer available: choose another one."), field="window_start"
    )


def _book(
    placement: Placement, request, job: JobToBook, travel, now, *, emit: bool
) -> Visit | None:
    """The visit in the placement's gap, or None when the technician's route changed and the
    job no longer fits. The emergency rule and the planner change routes under the
    technician's row lock: take it, then check this technician's route again."""
    technician = (
        Technician.objects.select_for_update(of=("self",))
        .select_related("user")  # named in the status change
        .get(pk=placement.technician.pk)
    )
    window = (request.window_start, request.window_end)
    fresh = _day_route_again(placement.day_route, technician, now)
    again = _placements(
        [fresh], job, window, travel, now, margin=request.tenant.window_margin_minutes
    )
    if not again:
        return None
    gap = again[0].gap
    return visit_create(
        request=request,
        technician=technician,
        start=gap.start,
        end=gap.start + timedelta(minutes=job.minutes),
        travel_minutes=gap.detour_seconds / 60,
        reason=_("Booked with %(name)s in the agreed window") % {"name": technician},
        emit=emit,
    )


def _distance_to_day(day_route: DayRoute, point: Point) -> float:
    """How near a technician's day passes to a point (squared degrees, longitude scaled for
    Almaty-like latitudes): a cheap order to try technicians in, not a travel time."""
    route = day_route.route
    stops = [route.position, day_route.home, *(leg.point for leg in route.legs)]
    return min((lat - point[0]) ** 2 + (LON_SCALE * (lon - point[1])) ** 2 for lat, lon in stops)


def _placements(
    routes: list[DayRoute],
    job: JobToBook,
    window,
    travel,
    now,
    enough: int | None = None,
    *,
    margin: int | None = None,
) -> list[Placement]:
    """Where the job fits, cheapest first; with `enough`, only the first that many routes (in
    the given order) that fit are weighed. `margin`: the tenant's window margin (minutes)."""
    latest = latest_arrival(window[1], now, margin_minutes=margin)
    if latest < window[0] or window[1] <= now:
        return []
    found = []
    for day_route in routes:
        route = day_route.route
        if route.shift_end <= window[0] or route.free_at >= window[1]:
            continue
        if day_route.booked_minutes + job.minutes > day_route.capacity_minutes:
            continue  # the lunch break would no longer fit
        gap = find_gap(
            route,
            point=job.point,
            minutes=job.minutes,
            window=(max(window[0], now), latest),
            travel=travel,
            end_point=day_route.home,
        )
        if gap is not None:
            found.append(Placement(day_route, gap))
            if enough is not None and len(found) >= enough:
                break
    found.sort(key=lambda p: (p.cost, p.gap.start, p.technician.pk))
    return found


def day_routes(
    *,
    tenant: Tenant,
    day: date,
    skills: frozenset[str],
    now: datetime,
    during: tuple[datetime, datetime] | None = None,
    near: Point | None = None,
    limit: int | None = None,
    exclude: Collection[int] = (),
) -> list[DayRoute]:
    """The routes of a day of the technicians qualified for `skills` (and on shift `during`,
    when given), in three queries; with `near` and `limit`, only the `limit` technicians who
    live nearest that point; `exclude` leaves out technicians already read."""
    shifts = Shift.objects.for_tenant(tenant).filter(date=day, end__gt=now, technician__active=True)
    for code in skills:  # one join per skill: the technician has them all
        shifts = shifts.filter(technician__skills__code=code)
    if during is not None:
        shifts = shifts.filter(start__lt=during[1], end__gt=during[0])
    if exclude:
        shifts = shifts.exclude(technician_id__in=list(exclude))
    order = ["technician_id"]
    if near is not None:
        north = F("technician__home_lat") - near[0]
        east = (F("technician__home_lon") - near[1]) * LON_SCALE
        shifts = shifts.annotate(remoteness=north * north + east * east)
        order = ["remoteness", "technician_id"]
    shifts = shifts.select_related("technician").order_by(*order)
    shifts = list(shifts[:limit] if limit is not None else shifts)
    if not shifts:
        return []
    technician_ids = [shift.technician_id for shift in shifts]
    first = min(shift.start for shift in shifts)
    last = max(shift.end for shift in shifts)
    absences = defaultdict(list)
    for absence in Absence.objects.filter(
        technician_id__in=technician_ids, end__gt=first, start__lt=last
    ):
        absences[absence.technician_id].append(absence)
    visits = _booked_visits(technician_ids, first, last, now)
    routes = []
    for shift in shifts:
        working = working_window(shift, absences[shift.technician_id], now)
        if working is not None:
            routes.append(_day_route(shift, working, visits[shift.technician_id], now))
    return routes


def _day_route_again(day_route: DayRoute, technician: Technician, now: datetime) -> DayRoute:
    """A technician's route read again under their row lock. Only the visits: they are what
    the emergency rule and the planner change under that lock (shift and absences are not)."""
    shift = day_route.shift
    shift.technician = technician
    visits = _booked_visits([technician.pk], shift.start, shift.end, now)
    return _day_route(shift, day_route.working, visits[technician.pk], now)


def _booked_visits(
    technician_ids: list[int], first: datetime, last: datetime, now: datetime
) -> defaultdict[int, list[RouteVisit]]:
    """The live visits that can hold time between `first` and `last`, by technician, in start
    order. Every booking reads them under its day's lock, so as plain values: a route needs
    their times and places, not model instances."""
    visits = defaultdict(list)
    for row in (
        Visit.objects.filter(
            technician_id__in=technician_ids,
            status__in=Visit.ACTIVE,
            planned_start__lt=last,
            planned_end__gt=min(first, now) - timedelta(hours=12),
        )
        # Visits of the days between now and `first` hold no time after it (`_day_route` would
        # skip them): only the day's own, the job in hand and overdue work are read.
        .filter(Q(planned_end__gt=first) | Q(planned_end__lte=now) | Q(status__in=IN_HAND))
        .order_by("planned_start")
        .values_list(*RouteVisit._fields)
    ):
        visit = RouteVisit(*row)
        visits[visit.technician_id].append(visit)
    return visits


def _day_route(shift: Shift, working, visits: list[RouteVisit], now: datetime) -> DayRoute:
    technician = shift.technician
    home = (technician.home_lat, technician.home_lon)
    here = home
    if technician.last_seen_at and technician.last_seen_at >= shift.start:
        here = technician.position  # out on the road since the shift began
    route = LiveRoute(technician, working[1], working[0], here)
    booked = 0.0
    for visit in visits:
        if visit.planned_start >= working[1]:
            continue
        if visit.status in IN_HAND:
            route.free_at = max(route.free_at, free_after(visit, now))
            route.position = (visit.request__lat, visit.request__lon)
            continue
        overdue = visit.planned_end <= now and visit.status in (
            Visit.Status.SCHEDULED,
            Visit.Status.ACCEPTED,
        )
        if visit.planned_end <= working[0] and not overdue:
            continue  # another day's, or done with
        length = visit.planned_end - visit.planned_start
        booked += length.total_seconds() / 60
        route.legs.append(
            Leg(
                visit=None,  # read-only: a booking moves no leg (the emergency rule loads its own)
                point=(visit.request__lat, visit.request__lon),
                start=visit.planned_start,
                end=visit.planned_end,
                window_end=visit.request__window_end,
                pinned=visit.pinned,
            )
        )
    # Work not started when it should have been still happens: it holds time from when the
    # technician is next free, not in the past.
    clock = route.free_at
    for leg in route.legs:
        if leg.start < clock:
            length = leg.end - leg.start
            leg.start, leg.end = clock, clock + length
        clock = leg.end
    minutes = (working[1] - route.free_at).total_seconds() / 60
    return DayRoute(
        route=route,
        home=home,
        booked_minutes=booked,
        capacity_minutes=max(0.0, minutes - shift.lunch_minutes),
        shift=shift,
        working=working,
    )
