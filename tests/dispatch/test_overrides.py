"""Dispatchers override the engine: assign, reassign, pin, unassign — and the engine obeys."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from core.models import Event
from dispatch.engine.planner import plan_day
from requests_app.models import ServiceRequest
from technicians.models import Visit
from tests.factories import RequestFactory, TechnicianFactory

pytestmark = pytest.mark.django_db


def start_in(hours: float) -> str:
    return (timezone.now() + timedelta(hours=hours)).isoformat()


def test_a_dispatcher_assigns_a_waiting_request_and_it_is_pinned(api, dispatcher, technician):
    request = RequestFactory(tenant=dispatcher.tenant)

    response = api(dispatcher).post(
        f"/api/v1/requests/{request.pk}/assign/",
        {"technician": technician.pk, "start": start_in(2)},
        format="json",
    )

    assert response.status_code == 200, response.content
    visit = Visit.objects.get(request=request)
    assert (visit.technician, visit.pinned) == (technician, True)
    assert response.json()["status"] == "assigned"
    assert request.status_changes.last().actor == dispatcher
    assert Event.objects.filter(tenant=dispatcher.tenant, payload__id=request.pk).exists()


def test_reassigning_an_accepted_job_needs_the_new_technician_to_accept(
    api, dispatcher, technician, other_technician
):
    request = RequestFactory(tenant=dispatcher.tenant, status="accepted")
    now = timezone.now()
    visit = Visit.objects.create(
        tenant=dispatcher.tenant,
        request=request,
        technician=technician,
        status="accepted",
        planned_start=now + timedelta(hours=1),
        planned_end=now + timedelta(hours=2),
    )

    api(dispatcher).post(
        f"/api/v1/requests/{request.pk}/assign/",
        {"technician": other_technician.pk, "start": start_in(3)},
        format="json",
    )

    visit.refresh_from_db()
    request.refresh_from_db()
    assert (visit.technician, visit.status, visit.pinned) == (other_technician, "scheduled", True)
    assert request.status == ServiceRequest.Status.ASSIGNED


def test_assigning_over_another_visit_is_a_409_naming_the_field(api, dispatcher, technician):
    busy_from = timezone.now() + timedelta(hours=2)
    Visit.objects.create(
        tenant=dispatcher.tenant,
        request=RequestFactory(tenant=dispatcher.tenant),
        technician=technician,
        planned_start=busy_from,
        planned_end=busy_from + timedelta(hours=1),
    )
    request = RequestFactory(tenant=dispatcher.tenant)

    # Even a confirmed override: no technician is in two places at once (the database says).
    response = api(dispatcher).post(
        f"/api/v1/requests/{request.pk}/assign/",
        {
            "technician": technician.pk,
            "start": (busy_from + timedelta(minutes=15)).isoformat(),
            "confirm": True,
        },
        format="json",
    )

    assert response.status_code == 409
    assert "start" in response.json()
    assert not Visit.objects.filter(request=request).exists()


def test_a_technician_of_another_tenant_cannot_be_chosen(api, dispatcher, other_tenant):
    stranger = TechnicianFactory(tenant=other_tenant)
    request = RequestFactory(tenant=dispatcher.tenant)

    response = api(dispatcher).post(
        f"/api/v1/requests/{request.pk}/assign/",
        {"technician": stranger.pk, "start": start_in(1)},
        format="json",
    )

    assert response.status_code == 400
    assert "technician" in response.json()


def test_pin_and_unpin_a_visit(api, dispatcher, technician):
    now = timezone.now()
    visit = Visit.objects.create(
        tenant=dispatcher.tenant,
        request=RequestFactory(tenant=dispatcher.tenant),
        technician=technician,
        planned_start=now,
        planned_end=now + timedelta(hours=1),
    )
    client = api(dispatcher)

    assert client.post(f"/api/v1/visits/{visit.pk}/pin/", {"pinned": True}).json()
    visit.refresh_from_db()
    assert visit.pinned
    client.post(f"/api/v1/visits/{visit.pk}/pin/", {"pinned": False})
    visit.refresh_from_db()
    assert not visit.pinned


def test_unassigning_sends_the_request_back_to_the_queue(api, dispatcher, technician):
    request = RequestFactory(tenant=dispatcher.tenant, status="assigned")
    now = timezone.now()
    visit = Visit.objects.create(
        tenant=dispatcher.tenant,
        request=request,
        technician=technician,
        planned_start=now + timedelta(hours=1),
        planned_end=now + timedelta(hours=2),
    )

    response = api(dispatcher).post(
        f"/api/v1/visits/{visit.pk}/unassign/", {"reason": "customer called"}, format="json"
    )

    assert response.status_code == 200
    visit.refresh_from_db()
    request.refresh_from_db()
    assert (visit.status, request.status) == ("cancelled", "new")
    assert request.status_changes.last().reason == "customer called"


@pytest.mark.parametrize("role", ["operator", "manager"])
def test_only_dispatchers_override_the_engine(api, request, role, technician):
    user = request.getfixturevalue(role)
    service_request = RequestFactory(tenant=user.tenant)
    response = api(user).post(
        f"/api/v1/requests/{service_request.pk}/assign/",
        {"technician": technician.pk, "start": start_in(1)},
        format="json",
    )
    assert response.status_code == 403


def booked(dispatcher, technician, *, pinned=False) -> Visit:
    """A planned request for today, booked with `technician` in its window."""
    now = timezone.now().replace(second=0, microsecond=0)
    request = RequestFactory(
        tenant=dispatcher.tenant,
        status="assigned",
        window_start=now + timedelta(hours=1),
        window_end=now + timedelta(hours=4),
    )
    return Visit.objects.create(
        tenant=dispatcher.tenant,
        request=request,
        technician=technician,
        planned_start=now + timedelta(hours=2),
        planned_end=now + timedelta(hours=3),
        pinned=pinned,
    )


def replan_today(tenant):
    for _run in range(2):
        plan_day(tenant_id=tenant.pk, day=timezone.localdate(timezone=tenant.zone), time_limit=1)


def test_an_unassigned_request_is_held_across_re_plans(api, dispatcher, technician):
    visit = booked(dispatcher, technician)

    api(dispatcher).post(f"/api/v1/visits/{visit.pk}/unassign/", {"reason": "customer called"})
    replan_today(dispatcher.tenant)

    request = ServiceRequest.objects.get(pk=visit.request_id)
    assert (request.status, request.held) == ("new", True)
    assert not Visit.objects.filter(request=request, status__in=Visit.ACTIVE).exists()


def test_the_live_event_of_an_unassign_says_the_request_is_held(api, dispatcher, technician):
    """Boards merge an event into the row they show: without the flag the row stayed
    'unassigned' until the next full read."""
    visit = booked(dispatcher, technician)

    api(dispatcher).post(f"/api/v1/visits/{visit.pk}/unassign/", {"reason": "customer called"})

    event = Event.objects.filter(tenant=dispatcher.tenant, payload__id=visit.request_id).last()
    assert event.payload["held"] is True
    assert event.payload["visit"] is None


@pytest.fixture
def at_noon():
    """Today at 12:00 in the tenant's zone: late in the evening a window an hour ahead is
    tomorrow's, and today's plan would rightly leave it alone."""
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    with mock.patch("django.utils.timezone.now", return_value=noon):
        yield noon


def test_a_dispatcher_releases_a_held_request_and_the_planner_takes_it_again(
    api, dispatcher, at_noon
):
    technician = TechnicianFactory(tenant=dispatcher.tenant)  # on shift around noon
    visit = booked(dispatcher, technician)
    client = api(dispatcher)
    client.post(f"/api/v1/visits/{visit.pk}/unassign/", {"reason": "customer called"})

    response = client.post(
        f"/api/v1/requests/{visit.request_id}/release/", {"reason": "ready"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["held"] is False
    request = ServiceRequest.objects.get(pk=visit.request_id)
    change = request.status_changes.last()
    assert (change.actor, change.from_status, change.to_status) == (dispatcher, "new", "new")
    assert "ready" in change.reason
    assert Event.objects.filter(tenant=dispatcher.tenant, payload__id=request.pk).exists()
    replan_today(dispatcher.tenant)
    assert Visit.objects.filter(request=request, status__in=Visit.ACTIVE).exists()


def test_releasing_a_request_that_is_not_held_is_a_409(api, dispatcher, technician):
    visit = booked(dispatcher, technician)

    response = api(dispatcher).post(f"/api/v1/requests/{visit.request_id}/release/")

    assert response.status_code == 409


@pytest.mark.parametrize("role", ["operator", "manager", "technician"])
def test_only_dispatchers_release_a_held_request(api, request, role, dispatcher, technician):
    user = technician.user if role == "technician" else request.getfixturevalue(role)
    visit = booked(dispatcher, technician)

    response = api(user).post(f"/api/v1/requests/{visit.request_id}/release/")

    assert response.status_code in (403, 404)


def test_a_pinned_visit_stays_exactly_as_pinned_across_re_plans(
    api, dispatcher, technician, other_technician
):
    visit = booked(dispatcher, technician)
    before = (technician, visit.planned_start, visit.planned_end)
    other_technician.home_lat, other_technician.home_lon = 43.2380, 76.8900
    other_technician.save()

    api(dispatcher).post(f"/api/v1/visits/{visit.pk}/pin/", {"pinned": True})
    replan_today(dispatcher.tenant)

    visit.refresh_from_db()
    assert (visit.technician, visit.planned_start, visit.planned_end) == before
    assert visit.pinned and visit.is_active


def test_a_dispatcher_assigning_a_held_request_ends_the_hold(api, dispatcher, technician):
    visit = booked(dispatcher, technician)
    client = api(dispatcher)
    client.post(f"/api/v1/visits/{visit.pk}/unassign/")

    response = client.post(
        f"/api/v1/requests/{visit.request_id}/assign/",
        {"technician": technician.pk, "start": start_in(2)},
        format="json",
    )

    assert (response.status_code, response.json()["held"]) == (200, False)
