"""The technician's day: own jobs only, and the status flow from the phone."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dispatch.engine.emergency import request_assign
from requests_app.models import ServiceRequest, StatusChange
from technicians.models import Visit
from tests.dispatch.test_assignment import emergency

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned(technician):
    request = emergency(technician.tenant)
    request_assign(request_id=request.pk)
    return Visit.objects.get(request=request)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_technician_sees_their_assigned_jobs(technician, assigned):
    response = client_for(technician.user).get("/tech/")
    assert response.status_code == 200
    assert assigned.request.number in response.content.decode()


def test_a_technician_does_not_see_other_technicians_jobs(other_technician, assigned):
    response = client_for(other_technician.user).get("/tech/")
    assert assigned.request.number not in response.content.decode()


def test_the_status_flow_runs_accept_en_route_on_site_done(technician, assigned):
    client = client_for(technician.user)
    for step in ("accepted", "en_route", "on_site", "completed"):
        response = client.post(f"/tech/visits/{assigned.pk}/{step}/")
        assert response.status_code == 302
    assigned.refresh_from_db()
    assert assigned.status == Visit.Status.COMPLETED
    assert assigned.finished_at is not None
    trail = list(
        StatusChange.objects.filter(request=assigned.request).values_list("to_status", flat=True)
    )
    assert trail == ["assigned", "accepted", "en_route", "on_site", "completed"]


def test_could_not_complete_needs_a_reason(technician, assigned):
    client = client_for(technician.user)
    for step in ("accepted", "en_route", "on_site"):
        client.post(f"/tech/visits/{assigned.pk}/{step}/")

    response = client.post(f"/tech/visits/{assigned.pk}/not_completed/", follow=True)
    assert "Choose why" in response.content.decode()
    client.post(f"/tech/visits/{assigned.pk}/not_completed/", {"reason": "customer_absent"})

    assigned.refresh_from_db()
    assert (assigned.status, assigned.reason) == ("not_completed", "customer_absent")
    trail = list(
        StatusChange.objects.filter(request=assigned.request).values_list("to_status", flat=True)
    )
    # An emergency whose customer was out goes to dispatchers to call them (test_follow_up).
    assert trail[-2:] == ["not_completed", "escalated"]


def test_skipping_a_step_is_refused_with_a_message(technician, assigned):
    response = client_for(technician.user).post(
        f"/tech/visits/{assigned.pk}/completed/", follow=True
    )
    assert "cannot go from" in response.content.decode()
    assigned.refresh_from_db()
    assert assigned.status == Visit.Status.SCHEDULED


def test_another_technician_cannot_move_my_visit(other_technician, assigned):
    response = client_for(other_technician.user).post(f"/tech/visits/{assigned.pk}/accepted/")
    assert response.status_code == 404


def test_the_api_moves_a_visit_for_the_mobile_view(api, technician, assigned):
    response = api(technician.user).post(
        f"/api/v1/visits/{assigned.pk}/transition/", {"to": "accepted"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"


def test_the_day_lists_jobs_in_time_order(technician):
    from tests.factories import RequestFactory

    now = timezone.now().replace(hour=6, minute=0)
    for hours in (3, 1, 2):
        start = now + timedelta(hours=hours)
        Visit.objects.create(
            tenant=technician.tenant,
            request=RequestFactory(tenant=technician.tenant),
            technician=technician,
            planned_start=start,
            planned_end=start + timedelta(minutes=30),
        )
    response = client_for(technician.user).get("/tech/")
    starts = [v.planned_start for v in response.context["visits"]]
    assert starts == sorted(starts)


def test_arriving_late_pushes_the_rest_of_the_route_and_flags_a_broken_promise(
    technician, assigned
):
    from tests.factories import CustomerFactory, RequestFactory

    now = timezone.now()
    Visit.objects.filter(pk=assigned.pk).update(
        planned_start=now - timedelta(hours=2), planned_end=now - timedelta(hours=1)
    )
    client = client_for(technician.user)
    client.post(f"/tech/visits/{assigned.pk}/accepted/")
    client.post(f"/tech/visits/{assigned.pk}/en_route/")
    next_request = RequestFactory(
        tenant=technician.tenant,
        status="assigned",
        window_start=now - timedelta(minutes=30),
        window_end=now + timedelta(minutes=30),
        customer=CustomerFactory(tenant=technician.tenant),
    )
    following = Visit.objects.create(
        tenant=technician.tenant,
        request=next_request,
        technician=technician,
        planned_start=now - timedelta(minutes=30),
        planned_end=now + timedelta(minutes=30),
    )

    client.post(f"/tech/visits/{assigned.pk}/on_site/")

    assigned.refresh_from_db()
    following.refresh_from_db()
    assert assigned.planned_start >= now
    assert following.planned_start >= assigned.planned_end
    assert ServiceRequest.objects.get(pk=next_request.pk).window_at_risk is True
