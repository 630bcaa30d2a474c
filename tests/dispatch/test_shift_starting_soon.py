"""An emergency also considers technicians whose shift starts soon enough to be on site by its
response deadline (issue #11: at 07:42 every emergency was escalated between the night crew,
ending 08:00, and the day crew, starting 08:15)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.engine.emergency import request_assign
from dispatch.models import Decision
from requests_app.models import ServiceRequest
from technicians.models import Absence, Shift, Visit
from tests.dispatch.test_assignment import FAR, NEAR, emergency
from tests.factories import TechnicianFactory

pytestmark = pytest.mark.django_db


def crew_member(tenant, now, *, home, starts_in: int, hours: float = 9):
    """A technician at `home` whose one shift starts `starts_in` minutes from now."""
    technician = TechnicianFactory(
        tenant=tenant, home_lat=home[0], home_lon=home[1], on_shift=False
    )
    start = now + timedelta(minutes=starts_in)
    Shift.objects.create(
        tenant=tenant,
        technician=technician,
        date=start.date(),
        start=start,
        end=start + timedelta(hours=hours),
    )
    return technician


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


def _excluded(request):
    decision = Decision.objects.get(request=request)
    return {entry["technician_id"]: entry["reason"] for entry in decision.excluded}


def test_an_emergency_goes_to_the_day_crew_starting_soon_when_the_night_crew_ends(tenant, now):
    night = crew_member(tenant, now, home=NEAR, starts_in=-480, hours=8.3)  # ends in 18 minutes
    day = crew_member(tenant, now, home=NEAR, starts_in=33)
    request = emergency(tenant, response_due=now + timedelta(minutes=60))

    assert request_assign(request_id=request.pk, now=now) == "assigned"

    visit = Visit.objects.get(request=request)
    assert visit.technician == day
    # From home, once the shift starts: a few minutes' drive after 33 minutes.
    assert now + timedelta(minutes=33) < visit.planned_start < now + timedelta(minutes=40)
    assert _excluded(request) == {night.pk: "shift_ends"}


def test_a_technician_starting_too_late_for_the_deadline_is_not_considered(tenant, now):
    # Starts well before the deadline, but the drive from home ends after it.
    late = crew_member(tenant, now, home=FAR, starts_in=40)
    later = crew_member(tenant, now, home=NEAR, starts_in=90)
    request = emergency(tenant, response_due=now + timedelta(minutes=60))

    assert request_assign(request_id=request.pk, now=now) == "escalated"

    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.ESCALATED
    assert _excluded(request) == {late.pk: "starts_too_late", later.pk: "off_shift"}


def test_a_technician_absent_when_the_shift_starts_is_not_considered(tenant, now):
    absent = crew_member(tenant, now, home=NEAR, starts_in=15)
    Absence.objects.create(
        tenant=tenant,
        technician=absent,
        start=now + timedelta(minutes=10),
        end=now + timedelta(hours=2),
        reason="doctor",
    )
    request = emergency(tenant, response_due=now + timedelta(minutes=60))

    assert request_assign(request_id=request.pk, now=now) == "escalated"

    assert _excluded(request) == {absent.pk: "absent"}


def test_those_starting_soon_are_ranked_with_those_on_shift_by_eta(tenant, now):
    # On shift now but 18 km away (about 45 minutes) versus starting in 10 minutes next door.
    far = crew_member(tenant, now, home=FAR, starts_in=-60)
    soon = crew_member(tenant, now, home=NEAR, starts_in=10)
    request = emergency(tenant, response_due=now + timedelta(minutes=60))

    request_assign(request_id=request.pk, now=now)

    ranked = [c["technician_id"] for c in Decision.objects.get(request=request).candidates]
    assert ranked == [soon.pk, far.pk]
    assert Visit.objects.get(request=request).technician == soon


def test_without_a_recorded_deadline_the_tenant_response_time_from_creation_counts(tenant, now):
    tenant.response_sla_minutes = 50
    tenant.save(update_fields=["response_sla_minutes"])
    soon = crew_member(tenant, now, home=NEAR, starts_in=40)
    crew_member(tenant, now, home=NEAR, starts_in=55)
    request = emergency(tenant, response_due=None)

    assert request_assign(request_id=request.pk, now=now) == "assigned"

    assert Visit.objects.get(request=request).technician == soon
