"""The reads and writes the engine runs in hand-written SQL for speed, each beside its rule.

The emergency rule reads the whole roster, who is ready when, and a few dozen routes for every
request; compiling those queries through the ORM each time cost more than running them. So they
are written once here, in SQL, with the rule each one implements stated in plain words (and, for
routes, as the ORM filter `live_after` the planner uses). `tests/dispatch/test_reads.py` holds
each of them to its ORM version on the same rows.
"""

from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import connection
from django.db.models import F, Q

from accounts.models import User
from requests_app.models import ServiceRequest
from requests_app.states import Status
from technicians.models import Absence, Shift, Technician, Visit

# A technician busy with these is at that job: it fixes when and where they are next free.
IN_HAND = (Visit.Status.EN_ROUTE, Visit.Status.ON_SITE)
# A visit overdue by more than this no longer holds its place in a route.
OVERDUE_HELD = timedelta(days=1)


def _table(model) -> str:
    return model._meta.db_table


# --- Live visits of a route ----------------------------------------------------------------


def live_after(now: datetime) -> Q:
    """Live visits that still hold time after `now`: running or ahead, and those overdue but not
    started yet (they hold their place in the route until they are done or moved)."""
    return Q(status__in=Visit.ACTIVE) & (
        Q(planned_end__gt=now)
        | Q(
            status__in=(Visit.Status.SCHEDULED, Visit.Status.ACCEPTED),
            planned_start__gt=now - OVERDUE_HELD,
        )
    )


class RouteVisit(NamedTuple):
    """What a route needs of a live visit."""

    id: int
    technician_id: int
    status: str
    planned_start: datetime
    planned_end: datetime
    pinned: bool
    request__lat: float
    request__lon: float
    request__window_end: datetime | None
    request__kind: str


def live_visits(technician_ids: list[int], *, now: datetime) -> list[RouteVisit]:
    """The visits `live_after(now)` of these technicians, in start order."""
    with connection.cursor() as cursor:
        cursor.execute(
            _LIVE_VISITS_SQL,
            {
                "technicians": technician_ids,
                "active": list(Visit.ACTIVE),
                "waiting": [Visit.Status.SCHEDULED, Visit.Status.ACCEPTED],
                "now": now,
                "overdue_since": now - OVERDUE_HELD,
            },
        )
        return [RouteVisit._make(row) for row in cursor.fetchall()]


_LIVE_VISITS_SQL = f"""
    SELECT visit.id, visit.technician_id, visit.status, visit.planned_start, visit.planned_end,
           visit.pinned, request.lat, request.lon, request.window_end, request.kind
    FROM {_table(Visit)} AS visit
    JOIN {_table(ServiceRequest)} AS request
      ON request.id = visit.request_id
    WHERE visit.technician_id = ANY(%(technicians)s)
      AND visit.status = ANY(%(active)s)
      AND (visit.planned_end > %(now)s
           OR (visit.status = ANY(%(waiting)s) AND visit.planned_start > %(overdue_since)s))
    ORDER BY visit.planned_start
"""  # noqa: S608 — table names from the models; values are parameters


def visits_retime(visits: list[Visit], *, now: datetime) -> None:
    """Write the visits' planned times (and `now` as their change time) in one statement:
    arrays of ids and times, joined by position (`bulk_update` would send a CASE per row)."""
    for visit in visits:
        visit.updated_at = now
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table(Visit)} AS visit"  # noqa: S608 — a model's table name
            " SET planned_start = moved.starts, planned_end = moved.ends, updated_at = %s"
            " FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[])"
            " AS moved(id, starts, ends)"
            " WHERE visit.id = moved.id",
            [
                now,
                [visit.pk for visit in visits],
                [visit.planned_start for visit in visits],
                [visit.planned_end for visit in visits],
            ],
        )


# --- The roster for an emergency -----------------------------------------------------------


class RosterRow(NamedTuple):
    """An active technician of the tenant, and what decides whether they may take a request:
    whether they lack one of its skills, already failed a visit to it, are absent now, and when
    the shift they are on now ends (None: off shift); for one off shift, the first shift that
    starts after now and by `until` (the request's response deadline), and whether they are
    absent when it starts."""

    id: int
    home_lat: float
    home_lon: float
    last_lat: float | None
    last_lon: float | None
    user_id: int
    first_name: str
    last_name: str
    username: str
    lacks_skills: bool
    tried: bool
    absent: bool
    shift_end: datetime | None
    skills: list[int]
    next_start: datetime | None
    next_end: datetime | None
    absent_at_next_start: bool


def roster(*, tenant_id: int, request_id: int, now: datetime, until: datetime) -> list[RosterRow]:
    with connection.cursor() as cursor:
        cursor.execute(
            _ROSTER_SQL,
            {
                "tenant": tenant_id,
                "request": request_id,
                "now": now,
                "until": until,
                "not_completed": Visit.Status.NOT_COMPLETED,
            },
        )
        return [RosterRow._make(row) for row in cursor.fetchall()]


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
           ) AS skills,
           upcoming.start, upcoming."end",
           EXISTS (
               SELECT 1 FROM {_table(Absence)} AS absence
               WHERE absence.technician_id = technician.id
                 AND absence.start <= upcoming.start AND absence."end" > upcoming.start
           ) AS absent_at_next_start
    FROM {_table(Technician)} AS technician
    JOIN {_table(User)} AS account ON account.id = technician.user_id
    -- The crew starting soon: in the same read, so an emergency still costs one roster query.
    LEFT JOIN LATERAL (
        SELECT shift.start, shift."end" FROM {_table(Shift)} AS shift
        WHERE shift.technician_id = technician.id
          AND shift.start > %(now)s AND shift.start <= %(until)s
        ORDER BY shift.start LIMIT 1
    ) AS upcoming ON true
    WHERE technician.tenant_id = %(tenant)s AND technician.active
"""  # noqa: S608 — table names from the models; values are parameters


def could_not_finish(*, request_ids: list[int]) -> dict[int, set[int]]:
    """Request id → the technicians who were there and could not finish it: the roster's
    `tried`, the rule that sends someone else. A request with an agreed window counts only the
    visits of that window: the customer's new window decides whether the same technician may
    come back, a window chosen again never sends them back into it."""
    failed: dict[int, set[int]] = {}
    for request_id, technician_id in Visit.objects.filter(
        Q(request__window_start__isnull=True)
        | Q(arrived_at__lt=F("request__window_end"), finished_at__gt=F("request__window_start")),
        request_id__in=request_ids,
        status=Visit.Status.NOT_COMPLETED,
    ).values_list("request_id", "technician_id"):
        failed.setdefault(request_id, set()).add(technician_id)
    return failed


# --- Who is busy until when ----------------------------------------------------------------


class BusyRow(NamedTuple):
    """A visit that keeps a technician busy: the job in hand (status in IN_HAND), or the latest
    emergency already waiting for them (its request assigned or accepted, its visit scheduled
    or accepted, not over yet): one row per technician for those."""

    technician_id: int
    status: str
    planned_start: datetime
    planned_end: datetime
    lat: float
    lon: float


def busy_visits(*, tenant_id: int, now: datetime) -> list[BusyRow]:
    with connection.cursor() as cursor:
        cursor.execute(
            _BUSY_SQL,
            {
                "tenant": tenant_id,
                "now": now,
                "in_hand": list(IN_HAND),
                "emergency": ServiceRequest.Kind.EMERGENCY,
                "waiting_requests": [Status.ASSIGNED, Status.ACCEPTED],
                "waiting_visits": [Visit.Status.SCHEDULED, Visit.Status.ACCEPTED],
            },
        )
        return [BusyRow._make(row) for row in cursor.fetchall()]


# Two halves, each on its partial index (visit_in_hand, request_emergency_waiting); of the
# emergencies waiting for a technician only the last counts (a storm queues hundreds).
_BUSY_SQL = f"""
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
