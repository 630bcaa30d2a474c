"""An emergency goes first; later planned visits are pushed, moved or flagged, never lost."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from dispatch.engine.emergency import request_assign
from dispatch.models import Decision
from notifications.models import Notification
from requests_app.models import ServiceRequest
from technicians.models import Visit
from tests.dispatch.test_assignment import FAR, NEAR, emergency
from tests.factories import CustomerFactory, RequestFactory, TechnicianFactory

pytestmark = pytest.mark.django_db


def planned_visit(technician, *, starts_in, window=None, minutes=60, pinned=False, point=NEAR):
    now = timezone.now()
    start = now + timedelta(minutes=starts_in)
    window_start, window_end = window or (start - timedelta(hours=1), start + timedelta(hours=1))
    request = RequestFactory(
        tenant=technician.tenant,
        status="assigned",
        lat=point[0],
        lon=point[1],
        window_start=window_start,
        window_end=window_end,
        customer=CustomerFactory(tenant=technician.tenant, phone="+77010000001"),
    )
    return Visit.objects.create(
        tenant=technician.tenant,
        request=request,
        technician=technician,
        planned_start=start,
        planned_end=start + timedelta(minutes=minutes),
        pinned=pinned,
    )


def test_a_later_visit_with_slack_in_its_window_is_pushed_and_keeps_its_promise(tenant):
    technician = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    now = timezone.now()
    later = planned_visit(technician, starts_in=30, window=(now, now + timedelta(hours=4)))
    request = emergency(tenant, estimated_minutes=60)

    assert request_assign(request_id=request.pk, now=now) == "assigned"

    later.refresh_from_db()
    emergency_visit = Visit.objects.get(request=request)
    assert later.technician == technician
    assert later.planned_start >= emergency_visit.planned_end
    assert later.request.window_at_risk is False
    assert not Notification.objects.exists()


def test_a_pushed_visit_that_would_miss_its_window_moves_to_a_free_technician(tenant):
    busy = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    free = TechnicianFactory(tenant=tenant, home_lat=FAR[0], home_lon=FAR[1])
    now = timezone.now()
    tight = planned_visit(busy, starts_in=20, window=(now, now + timedelta(minutes=50)), point=NEAR)
    request = emergency(tenant, estimated_minutes=60)

    request_assign(request_id=request.pk, now=now)

    assert Visit.objects.get(request=request).technician == busy
    tight.refresh_from_db()
    assert tight.technician == free
    assert tight.planned_start <= tight.request.window_end
    assert tight.request.window_at_risk is False


def test_a_visit_nobody_can_take_in_time_is_flagged_and_its_customer_told(tenant):
    only = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    now = timezone.now()
    tight = planned_visit(only, starts_in=20, window=(now, now + timedelta(minutes=50)))
    request = emergency(tenant, estimated_minutes=60)

    request_assign(request_id=request.pk, now=now)

    tight.refresh_from_db()
    assert tight.technician == only  # still coming, later
    assert tight.planned_start > tight.request.window_end
    assert ServiceRequest.objects.get(pk=tight.request_id).window_at_risk is True
    message = Notification.objects.get(request=tight.request)
    assert message.kind == "window_at_risk"
    assert message.recipient == "+77010000001"
    assert tight.request.number in message.body


def test_a_technician_whose_push_would_break_a_promise_loses_to_one_slightly_further(tenant):
    near = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    close_enough = TechnicianFactory(tenant=tenant, home_lat=43.2450, home_lon=76.8950)
    now = timezone.now()
    planned_visit(near, starts_in=20, window=(now, now + timedelta(minutes=50)))
    request = emergency(tenant, estimated_minutes=60)

    request_assign(request_id=request.pk, now=now)

    assert Visit.objects.get(request=request).technician == close_enough
    ranked = Decision.objects.get(request=request).candidates
    assert ranked[0]["windows_broken"] == 0
    assert any(c["windows_broken"] == 1 for c in ranked)


def test_a_pinned_visit_is_never_pushed(tenant):
    pinned_tech = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    other = TechnicianFactory(tenant=tenant, home_lat=FAR[0], home_lon=FAR[1])
    now = timezone.now()
    pinned = planned_visit(pinned_tech, starts_in=20, pinned=True)
    planned_start = pinned.planned_start
    request = emergency(tenant, estimated_minutes=60)

    request_assign(request_id=request.pk, now=now)

    assert Visit.objects.get(request=request).technician == other
    pinned.refresh_from_db()
    assert pinned.planned_start == planned_start
    excluded = Decision.objects.get(request=request).excluded
    assert {
        "technician_id": pinned_tech.pk,
        "name": str(pinned_tech),
        "reason": "pinned_visit_in_the_way",
    } in excluded


def test_the_emergency_waits_for_the_job_in_hand_to_finish(tenant):
    technician = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    now = timezone.now()
    in_hand = planned_visit(technician, starts_in=-30, minutes=60)
    Visit.objects.filter(pk=in_hand.pk).update(status=Visit.Status.ON_SITE)
    request = emergency(tenant, estimated_minutes=30)

    request_assign(request_id=request.pk, now=now)

    assert Visit.objects.get(request=request).planned_start >= in_hand.planned_end


def test_an_emergency_that_would_run_past_the_shift_end_is_not_given_to_that_technician(tenant):
    technician = TechnicianFactory(tenant=tenant)
    technician.shifts.update(end=timezone.now() + timedelta(minutes=20))
    request = emergency(tenant, estimated_minutes=60)

    assert request_assign(request_id=request.pk) == "escalated"
    assert Decision.objects.get(request=request).excluded[0]["reason"] == "shift_ends"


def check_deferred_constraints():
    """Tests run inside a transaction that never commits: force the deferred check now."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_displaced_visits_moved_to_the_same_technician_do_not_collide(tenant, fiber):
    # Only `busy` can take the fibre emergency; `spare`, next door, can take the rest.
    busy = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1], skills=[fiber])
    spare = TechnicianFactory(tenant=tenant, home_lat=43.2400, home_lon=76.8910)
    now = timezone.now()
    for starts_in in (20, 55, 90):
        planned_visit(
            busy,
            starts_in=starts_in,
            minutes=30,
            window=(now, now + timedelta(minutes=starts_in + 5)),
        )
    request = emergency(tenant, skills=[fiber], estimated_minutes=60)

    request_assign(request_id=request.pk, now=now)

    check_deferred_constraints()
    assert Visit.objects.filter(technician=spare).count() >= 2  # moved there, one after another


def test_an_emergency_pushed_past_the_shift_end_is_not_treated_as_a_broken_promise(tenant):
    technician = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    technician.shifts.update(end=timezone.now() + timedelta(minutes=100))
    now = timezone.now()
    earlier = emergency(tenant, estimated_minutes=30)
    request_assign(request_id=earlier.pk, now=now)
    Visit.objects.filter(request=earlier).update(
        planned_start=now + timedelta(minutes=40), planned_end=now + timedelta(minutes=95)
    )
    request = emergency(tenant, estimated_minutes=30)

    assert request_assign(request_id=request.pk, now=now) == "assigned"

    check_deferred_constraints()
    assert ServiceRequest.objects.get(pk=earlier.pk).window_at_risk is False
