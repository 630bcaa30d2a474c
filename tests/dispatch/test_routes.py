"""A route is read in SQL for speed; it must hold exactly the visits `live_after` describes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.reads import live_after
from dispatch.routes import load_routes
from technicians.models import Visit
from tests.dispatch.test_emergency_insertion import planned_visit
from tests.factories import TechnicianFactory

pytestmark = pytest.mark.django_db


def test_a_route_holds_the_live_visits_ahead_and_the_overdue_ones_in_start_order(tenant):
    technician, other = TechnicianFactory(tenant=tenant), TechnicianFactory(tenant=tenant)
    later = planned_visit(technician, starts_in=120)
    overdue = planned_visit(technician, starts_in=-120)  # not started: it still holds its place
    stale = planned_visit(technician, starts_in=-3 * 24 * 60)  # days ago: it no longer does
    done = planned_visit(technician, starts_in=30)
    Visit.objects.filter(pk=done.pk).update(status=Visit.Status.COMPLETED)
    running = planned_visit(technician, starts_in=-20)
    Visit.objects.filter(pk=running.pk).update(status=Visit.Status.ON_SITE)
    planned_visit(other, starts_in=60)  # another technician's
    now = timezone.now()

    route = load_routes([technician], now=now, shift_ends={technician.pk: now + timedelta(hours=8)})

    expected = list(
        Visit.objects.filter(live_after(now), technician=technician)
        .order_by("planned_start")
        .values_list("pk", flat=True)
    )
    route = route[technician.pk]
    assert [leg.visit_id for leg in route.legs] == [overdue.pk, later.pk]
    assert set(expected) == {overdue.pk, running.pk, later.pk}
    assert stale.pk not in expected
    assert route.position == (running.request.lat, running.request.lon)  # the job in hand
