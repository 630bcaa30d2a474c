"""The engine's hand-written SQL reads give the same rows as their rules written with the ORM."""

from datetime import timedelta

import pytest
from django.db.models import Max
from django.utils import timezone

from dispatch.reads import (
    IN_HAND,
    BusyRow,
    RosterRow,
    RouteVisit,
    busy_visits,
    could_not_finish,
    live_after,
    live_visits,
    roster,
    visits_retime,
)
from requests_app.models import ServiceRequest
from technicians.models import Absence, Shift, Technician, Visit
from tests.dispatch.test_emergency_insertion import planned_visit
from tests.factories import RequestFactory, SkillFactory, TechnicianFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def day(tenant, other_tenant):
    """A tenant's crew in every situation the reads tell apart, and another tenant's."""
    now = timezone.now()
    fiber, copper = SkillFactory(tenant=tenant), SkillFactory(tenant=tenant)
    crew = {
        "both": TechnicianFactory(
            tenant=tenant, skills=[fiber, copper], last_lat=43.3, last_lon=76.9
        ),
        "fiber": TechnicianFactory(tenant=tenant, skills=[fiber]),
        "none": TechnicianFactory(tenant=tenant),
        "absent": TechnicianFactory(tenant=tenant, skills=[fiber, copper]),
        "off": TechnicianFactory(tenant=tenant, skills=[fiber, copper], on_shift=False),
        "tried": TechnicianFactory(tenant=tenant, skills=[fiber, copper]),
        "night": TechnicianFactory(tenant=tenant, skills=[fiber]),
        "soon": TechnicianFactory(tenant=tenant, skills=[fiber, copper], on_shift=False),
        "away_soon": TechnicianFactory(tenant=tenant, skills=[fiber], on_shift=False),
    }
    TechnicianFactory(tenant=tenant, active=False)
    TechnicianFactory(tenant=other_tenant)
    Absence.objects.create(
        tenant=tenant,
        technician=crew["absent"],
        start=now - timedelta(minutes=5),
        end=now + timedelta(hours=1),
    )
    # Yesterday's night shift still running beside today's: the later end counts.
    Shift.objects.create(
        tenant=tenant,
        technician=crew["night"],
        date=timezone.localdate() - timedelta(days=1),
        start=now - timedelta(hours=10),
        end=now + timedelta(hours=9),
    )
    # The day crew: two shifts starting before the deadline (the first counts), one after it.
    for technician, starts_in, days in (
        (crew["soon"], 40, 0),
        (crew["soon"], 50, 1),  # one shift a day: the second is filed under another
        (crew["away_soon"], 20, 0),
        (crew["off"], 120, 0),
    ):
        start = now + timedelta(minutes=starts_in)
        Shift.objects.create(
            tenant=tenant,
            technician=technician,
            date=timezone.localdate() + timedelta(days=days),
            start=start,
            end=start + timedelta(hours=8),
        )
    Absence.objects.create(
        tenant=tenant,
        technician=crew["away_soon"],
        start=now + timedelta(minutes=10),
        end=now + timedelta(hours=2),
    )
    request = RequestFactory(tenant=tenant, kind=ServiceRequest.Kind.EMERGENCY)
    request.required_skills.set([fiber, copper])
    failed = planned_visit(crew["tried"], starts_in=-300)
    Visit.objects.filter(pk=failed.pk).update(
        request=request, status=Visit.Status.NOT_COMPLETED, reason=Visit.Reason.PARTS_MISSING
    )

    # Visits: in hand, ahead, overdue, stale, done, and emergencies waiting.
    on_site = planned_visit(crew["both"], starts_in=-20)
    en_route = planned_visit(crew["fiber"], starts_in=10)
    Visit.objects.filter(pk=on_site.pk).update(status=Visit.Status.ON_SITE)
    Visit.objects.filter(pk=en_route.pk).update(status=Visit.Status.EN_ROUTE)
    planned_visit(crew["both"], starts_in=120)
    planned_visit(crew["both"], starts_in=-120)  # overdue, not started: holds its place
    planned_visit(crew["both"], starts_in=-3 * 24 * 60)  # days ago: no longer does
    done = planned_visit(crew["fiber"], starts_in=200)
    Visit.objects.filter(pk=done.pk).update(status=Visit.Status.COMPLETED)
    for starts_in, status in ((60, "assigned"), (180, "accepted"), (240, "escalated")):
        waiting = planned_visit(crew["none"], starts_in=starts_in)
        ServiceRequest.objects.filter(pk=waiting.request_id).update(
            kind=ServiceRequest.Kind.EMERGENCY, status=status
        )
    return {"tenant": tenant, "crew": crew, "request": request, "now": now}


def test_live_visits_are_the_visits_live_after_now_in_start_order(day):
    ids = [technician.pk for technician in day["crew"].values()]

    rows = live_visits(ids, now=day["now"])

    expected = (
        Visit.objects.filter(live_after(day["now"]), technician_id__in=ids)
        .order_by("planned_start")
        .values_list(*RouteVisit._fields)
    )
    assert rows == [RouteVisit(*row) for row in expected]
    assert len(rows) >= 6  # the day has something to compare


def _roster_by_orm(*, tenant_id, request_id, now, until) -> list[RosterRow]:
    needed = set(
        ServiceRequest.required_skills.through.objects.filter(
            servicerequest_id=request_id
        ).values_list("skill_id", flat=True)
    )
    rows = []
    technicians = Technician.objects.filter(tenant_id=tenant_id, active=True)
    for technician in technicians.select_related("user").prefetch_related("skills"):
        skills = sorted(skill.pk for skill in technician.skills.all())
        now_on = {"start__lte": now, "end__gt": now}
        upcoming = (
            technician.shifts.filter(start__gt=now, start__lte=until).order_by("start").first()
        )
        starts = upcoming.start if upcoming else None
        rows.append(
            RosterRow(
                id=technician.pk,
                home_lat=technician.home_lat,
                home_lon=technician.home_lon,
                last_lat=technician.last_lat,
                last_lon=technician.last_lon,
                user_id=technician.user_id,
                first_name=technician.user.first_name,
                last_name=technician.user.last_name,
                username=technician.user.username,
                lacks_skills=bool(needed - set(skills)),
                # The one rule for who could not finish it (an emergency has no window).
                tried=technician.pk
                in could_not_finish(request_ids=[request_id]).get(request_id, ()),
                absent=technician.absences.filter(**now_on).exists(),
                shift_end=technician.shifts.filter(**now_on).aggregate(end=Max("end"))["end"],
                skills=skills,
                next_start=starts,
                next_end=upcoming.end if upcoming else None,
                absent_at_next_start=bool(starts)
                and technician.absences.filter(start__lte=starts, end__gt=starts).exists(),
            )
        )
    return sorted(rows)


def test_the_roster_is_every_active_technician_of_the_tenant_with_what_rules_them_in_or_out(day):
    until = day["now"] + timedelta(minutes=60)
    found = roster(
        tenant_id=day["tenant"].pk, request_id=day["request"].pk, now=day["now"], until=until
    )

    expected = _roster_by_orm(
        tenant_id=day["tenant"].pk, request_id=day["request"].pk, now=day["now"], until=until
    )
    assert sorted(row._replace(skills=sorted(row.skills)) for row in found) == expected
    by_id = {row.id: row for row in found}
    crew = day["crew"]
    assert by_id[crew["none"].pk].lacks_skills and not by_id[crew["both"].pk].lacks_skills
    assert by_id[crew["absent"].pk].absent and by_id[crew["tried"].pk].tried
    assert by_id[crew["off"].pk].shift_end is None
    assert by_id[crew["off"].pk].next_start is None  # starts after the deadline
    assert by_id[crew["soon"].pk].next_start == day["now"] + timedelta(minutes=40)
    assert by_id[crew["away_soon"].pk].absent_at_next_start


def _busy_by_orm(*, tenant_id, now) -> list[BusyRow]:
    def row(visit):
        return BusyRow(
            visit.technician_id,
            visit.status,
            visit.planned_start,
            visit.planned_end,
            visit.request.lat,
            visit.request.lon,
        )

    visits = Visit.objects.filter(tenant_id=tenant_id).select_related("request")
    in_hand = [row(visit) for visit in visits.filter(status__in=IN_HAND)]
    waiting = visits.filter(
        request__kind=ServiceRequest.Kind.EMERGENCY,
        request__status__in=["assigned", "accepted"],
        status__in=[Visit.Status.SCHEDULED, Visit.Status.ACCEPTED],
        planned_end__gt=now,
    )
    last_waiting = {}
    for visit in waiting.order_by("planned_end"):
        last_waiting[visit.technician_id] = visit  # the latest end wins
    return sorted(in_hand + [row(visit) for visit in last_waiting.values()])


def test_busy_visits_are_the_jobs_in_hand_and_the_last_emergency_waiting_per_technician(day):
    found = busy_visits(tenant_id=day["tenant"].pk, now=day["now"])

    assert sorted(found) == _busy_by_orm(tenant_id=day["tenant"].pk, now=day["now"])
    assert len(found) == 3  # on site, en route, and one of the two emergencies still waiting


def test_visits_retime_writes_the_times_as_saving_each_visit_would(day):
    visits = list(Visit.objects.filter(tenant=day["tenant"], status=Visit.Status.SCHEDULED)[:3])
    for shift, visit in enumerate(visits, start=1):
        visit.planned_start += timedelta(minutes=10 * shift)
        visit.planned_end += timedelta(minutes=10 * shift)

    visits_retime(visits, now=day["now"])

    for visit in visits:
        fresh = Visit.objects.get(pk=visit.pk)
        assert (fresh.planned_start, fresh.planned_end, fresh.updated_at) == (
            visit.planned_start,
            visit.planned_end,
            day["now"],
        )
