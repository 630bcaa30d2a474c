"""The emergency rule: the qualified technician on shift who can be on site soonest."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from core.models import Event
from dispatch.engine import emergency as emergency_rule
from dispatch.engine.emergency import ready_for_emergency, request_assign
from dispatch.models import Decision
from dispatch.tasks import assign_request, reconcile_unassigned
from requests_app.models import ServiceRequest, StatusChange
from technicians.models import Absence, Visit
from tests.factories import RequestFactory, SkillFactory, TechnicianFactory

pytestmark = pytest.mark.django_db

NEAR = (43.2390, 76.8900)  # about 150 m from the customer
FAR = (43.3500, 77.0500)  # about 18 km away


def emergency(tenant, skills=(), **fields):
    request = RequestFactory(
        tenant=tenant, kind=ServiceRequest.Kind.EMERGENCY, priority=1, **fields
    )
    request.required_skills.set(skills)
    return request


def test_it_assigns_the_nearest_qualified_technician(tenant):
    far = TechnicianFactory(tenant=tenant, home_lat=FAR[0], home_lon=FAR[1])
    near = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    request = emergency(tenant)

    assert request_assign(request_id=request.pk) == "assigned"

    visit = Visit.objects.get(request=request)
    assert visit.technician == near
    assert far != near
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.ASSIGNED
    assert StatusChange.objects.filter(request=request, to_status="assigned").count() == 1


def test_an_emergency_a_dispatcher_holds_is_left_to_them(tenant):
    TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    request = emergency(tenant, held=True)

    assert request_assign(request_id=request.pk) == "skipped"

    assert not Visit.objects.filter(request=request).exists()
    request.refresh_from_db()
    assert (request.status, request.held) == ("new", True)


def test_a_technician_without_the_skill_is_not_chosen(tenant, fiber):
    TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    qualified = TechnicianFactory(tenant=tenant, home_lat=FAR[0], home_lon=FAR[1], skills=[fiber])
    request = emergency(tenant, skills=[fiber])

    request_assign(request_id=request.pk)

    assert Visit.objects.get(request=request).technician == qualified


def test_a_technician_needs_every_skill_the_job_asks_for(tenant, fiber):
    copper = SkillFactory(tenant=tenant, code="copper", name="Copper")
    half = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1], skills=[fiber])
    TechnicianFactory(  # has both, but no longer works here
        tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1], skills=[fiber, copper], active=False
    )
    both = TechnicianFactory(
        tenant=tenant, home_lat=FAR[0], home_lon=FAR[1], skills=[fiber, copper]
    )
    request = emergency(tenant, skills=[fiber, copper])

    request_assign(request_id=request.pk)

    assert Visit.objects.get(request=request).technician == both
    decision = Decision.objects.get(request=request)
    assert decision.excluded == [
        {"technician_id": half.pk, "name": str(half), "reason": "skills"}
    ]  # the inactive one is not a candidate at all


def test_off_shift_and_absent_technicians_are_not_chosen(tenant):
    TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1], on_shift=False)
    absent = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    now = timezone.now()
    Absence.objects.create(
        tenant=tenant,
        technician=absent,
        start=now - timedelta(hours=1),
        end=now + timedelta(hours=1),
        reason="doctor",
    )
    on_duty = TechnicianFactory(tenant=tenant, home_lat=FAR[0], home_lon=FAR[1])
    request = emergency(tenant)

    request_assign(request_id=request.pk)

    assert Visit.objects.get(request=request).technician == on_duty
    decision = Decision.objects.get(request=request)
    assert {e["reason"] for e in decision.excluded} == {"off_shift", "absent"}


def test_the_eta_counts_the_remaining_time_of_the_job_in_hand(tenant):
    busy_near = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    now = timezone.now()
    Visit.objects.create(
        tenant=tenant,
        request=RequestFactory(tenant=tenant),
        technician=busy_near,
        planned_start=now - timedelta(minutes=10),
        planned_end=now + timedelta(hours=3),
        status=Visit.Status.ON_SITE,
    )
    free_far = TechnicianFactory(tenant=tenant, home_lat=FAR[0], home_lon=FAR[1])
    request = emergency(tenant)

    request_assign(request_id=request.pk)

    assert Visit.objects.get(request=request).technician == free_far


def test_nobody_available_escalates_to_the_dispatchers_instead_of_staying_silent(tenant):
    TechnicianFactory(tenant=tenant, on_shift=False)
    request = emergency(tenant)

    assert request_assign(request_id=request.pk) == "escalated"

    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.ESCALATED
    assert Event.objects.filter(tenant=tenant, payload__status="escalated").exists()
    assert Decision.objects.get(request=request).outcome == "escalated"


def test_the_decision_lists_the_candidates_soonest_first(tenant):
    near = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    nearby = TechnicianFactory(tenant=tenant, home_lat=43.2500, home_lon=76.8950)
    far = TechnicianFactory(tenant=tenant, home_lat=FAR[0], home_lon=FAR[1])  # 45 min further
    request = emergency(tenant)

    request_assign(request_id=request.pk)

    ranked = [c["technician_id"] for c in Decision.objects.get(request=request).candidates]
    assert ranked == [near.pk, nearby.pk, far.pk]


def test_routes_are_read_in_batches_until_nobody_unread_can_be_sooner(tenant, monkeypatch):
    monkeypatch.setattr("dispatch.engine.emergency.MAX_ROUTES", 1)
    near = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    TechnicianFactory(tenant=tenant, home_lat=FAR[0], home_lon=FAR[1])
    request = emergency(tenant)

    request_assign(request_id=request.pk)

    ranked = [c["technician_id"] for c in Decision.objects.get(request=request).candidates]
    assert ranked == [near.pk]  # the far one's route was never needed


def test_a_busy_near_technician_leads_to_reading_the_next_batch(tenant, monkeypatch):
    monkeypatch.setattr("dispatch.engine.emergency.MAX_ROUTES", 1)
    near = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    first = emergency(tenant, estimated_minutes=180)
    request_assign(request_id=first.pk)  # the near one now has a 3-hour emergency queued
    further = TechnicianFactory(tenant=tenant, home_lat=43.2500, home_lon=76.8950)
    second = emergency(tenant)

    request_assign(request_id=second.pk)

    assert Visit.objects.get(request=first).technician == near
    assert Visit.objects.get(request=second).technician == further


def test_running_the_task_twice_creates_one_visit(tenant):
    TechnicianFactory(tenant=tenant)
    request = emergency(tenant)

    assert assign_request(request_id=request.pk) == "assigned"
    assert assign_request(request_id=request.pk) == "skipped"

    assert Visit.objects.filter(request=request).count() == 1


def test_technicians_of_another_tenant_are_never_candidates(tenant, other_tenant):
    TechnicianFactory(tenant=other_tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    request = emergency(tenant)

    assert request_assign(request_id=request.pk) == "escalated"


def test_the_reconciler_assigns_an_emergency_whose_message_was_lost(tenant, settings):
    settings.ASSIGN_OVERDUE_SECONDS = 30
    TechnicianFactory(tenant=tenant)
    request = emergency(tenant)
    ServiceRequest.objects.filter(pk=request.pk).update(
        created_at=timezone.now() - timedelta(minutes=2)
    )

    assert reconcile_unassigned() == {"assigned": 1}
    assert reconcile_unassigned() == {}

    assert Visit.objects.filter(request=request).count() == 1


def test_the_reconciler_leaves_an_emergency_a_dispatcher_holds_to_them(tenant, settings):
    settings.ASSIGN_OVERDUE_SECONDS = 30
    TechnicianFactory(tenant=tenant)
    request = emergency(tenant, held=True)
    ServiceRequest.objects.filter(pk=request.pk).update(
        created_at=timezone.now() - timedelta(minutes=2)
    )

    assert reconcile_unassigned() == {}
    assert not Visit.objects.filter(request=request).exists()


def test_the_reconciler_escalates_after_too_many_failed_attempts(tenant, settings):
    settings.ASSIGN_OVERDUE_SECONDS = 30
    settings.ASSIGN_MAX_ATTEMPTS = 3
    request = emergency(tenant, assignment_attempts=3)
    ServiceRequest.objects.filter(pk=request.pk).update(
        created_at=timezone.now() - timedelta(minutes=2)
    )

    assert reconcile_unassigned()["escalated"] == 1

    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.ESCALATED
    assert "3" in request.status_changes.last().reason


def overdue(request):
    ServiceRequest.objects.filter(pk=request.pk).update(
        created_at=timezone.now() - timedelta(minutes=2)
    )
    return request


def written_straight(request, **fields):
    """Values a faulty import wrote past every validator, that break its assignment."""
    ServiceRequest.objects.filter(pk=request.pk).update(**fields)
    return request


def test_a_request_that_fails_every_time_is_escalated_after_the_attempt_limit(tenant, settings):
    settings.ASSIGN_MAX_ATTEMPTS = 5
    TechnicianFactory(tenant=tenant)
    # A visit of no length: the database refuses it, every time.
    broken = written_straight(emergency(tenant), estimated_minutes=0)
    for _ in range(5):  # the task and its retries, duplicates, the reconciler: all count
        with pytest.raises(IntegrityError):
            request_assign(request_id=broken.pk)

    assert request_assign(request_id=broken.pk) == "escalated"

    broken.refresh_from_db()
    assert broken.status == ServiceRequest.Status.ESCALATED
    assert broken.assignment_attempts == 5


def test_a_request_that_breaks_the_engine_does_not_hold_back_the_others(
    tenant, settings, monkeypatch
):
    settings.ASSIGN_OVERDUE_SECONDS = 30
    TechnicianFactory(tenant=tenant)
    broken = overdue(emergency(tenant))  # the oldest: first in the reconciler's round
    other = overdue(emergency(tenant))
    assign = emergency_rule.request_assign

    def fails_for_the_broken_one(*, request_id, **options):
        if request_id == broken.pk:
            raise ValueError("a bug its data triggers")
        return assign(request_id=request_id, **options)

    monkeypatch.setattr(emergency_rule, "request_assign", fails_for_the_broken_one)

    assert reconcile_unassigned() == {"failed": 1, "assigned": 1}

    assert Visit.objects.filter(request=other).count() == 1


def test_the_reconciler_leaves_fresh_requests_to_their_task(tenant, settings):
    settings.ASSIGN_OVERDUE_SECONDS = 60
    TechnicianFactory(tenant=tenant)
    emergency(tenant)

    assert reconcile_unassigned() == {}


def test_a_second_emergency_queues_behind_the_first_instead_of_pushing_it(tenant):
    only = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    first = emergency(tenant, estimated_minutes=60)
    second = emergency(tenant, estimated_minutes=60)

    assert request_assign(request_id=first.pk) == "assigned"
    first_visit = Visit.objects.get(request=first)
    assert request_assign(request_id=second.pk) == "assigned"

    moved = Visit.objects.get(pk=first_visit.pk)
    second_visit = Visit.objects.get(request=second)
    assert (moved.planned_start, moved.planned_end) == (
        first_visit.planned_start,
        first_visit.planned_end,
    )
    assert second_visit.technician == only
    assert second_visit.planned_start >= moved.planned_end


def test_a_free_technician_further_away_beats_one_with_an_emergency_waiting(tenant):
    queued = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    first = emergency(tenant, estimated_minutes=120)
    request_assign(request_id=first.pk)
    assert Visit.objects.get(request=first).technician == queued
    free = TechnicianFactory(tenant=tenant, home_lat=FAR[0], home_lon=FAR[1])

    second = emergency(tenant, estimated_minutes=60)
    request_assign(request_id=second.pk)

    assert Visit.objects.get(request=second).technician == free


def test_a_technician_is_ready_only_after_the_last_emergency_waiting_for_them(tenant):
    only = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    waiting = [emergency(tenant, estimated_minutes=45) for _ in range(3)]
    for request in waiting:
        request_assign(request_id=request.pk)
    visits = sorted(
        Visit.objects.filter(request__in=waiting), key=lambda visit: visit.planned_start
    )
    assert {visit.technician for visit in visits} == {only}
    ready, where = ready_for_emergency(tenant.pk, timezone.now())[only.pk]
    assert ready == visits[-1].planned_end
    assert where == (visits[-1].request.lat, visits[-1].request.lon)

    fourth = emergency(tenant, estimated_minutes=45)
    request_assign(request_id=fourth.pk)

    # Behind all three, in order: none of them is pushed back by the newest.
    assert Visit.objects.get(request=fourth).planned_start >= visits[-1].planned_end
    assert [Visit.objects.get(pk=v.pk).planned_start for v in visits] == [
        v.planned_start for v in visits
    ]
