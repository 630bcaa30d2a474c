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


def day_of(user) -> dict:
    return client_for(user).get("/api/v1/me/day/").json()


def step(api, user, visit, to, **fields):
    return api(user).post(
        f"/api/v1/visits/{visit.pk}/transition/", {"to": to, **fields}, format="json"
    )


def test_the_phone_page_is_a_shell_with_its_words_manifest_and_service_worker(technician):
    client = client_for(technician.user)
    page = client.get("/tech/")
    worker = client.get("/tech/sw.js")
    manifest = client.get("/tech/manifest.webmanifest").json()

    assert page.status_code == 200
    assert 'id="phone-text"' in page.content.decode() and "On my way" in page.content.decode()
    assert worker["Content-Type"] == "application/javascript"
    assert "/static/js/phone/app.js" in worker.content.decode()
    assert manifest["start_url"] == "/tech/" and manifest["display"] == "standalone"


def test_a_technician_sees_their_assigned_jobs(technician, assigned):
    numbers = [visit["request"]["number"] for visit in day_of(technician.user)["visits"]]
    assert numbers == [assigned.request.number]


def test_a_technician_does_not_see_other_technicians_jobs(other_technician, assigned):
    assert day_of(other_technician.user)["visits"] == []


def test_the_day_has_what_the_doorstep_needs(technician, assigned, fiber):
    from tests.factories import RequestFactory

    assigned.request.required_skills.set([fiber])
    assigned.request.address = "Abay Ave 10"
    assigned.request.save()
    before = RequestFactory(
        tenant=technician.tenant, customer=assigned.request.customer, category="repair"
    )
    Visit.objects.create(
        tenant=technician.tenant,
        request=before,
        technician=technician,
        planned_start=timezone.now() - timedelta(days=9),
        planned_end=timezone.now() - timedelta(days=9, hours=-1),
        status="not_completed",
        reason="customer_absent",
    )

    job = day_of(technician.user)["visits"][0]

    assert job["customer"]["phone"] == assigned.request.customer.phone
    assert job["links"]["geo"].startswith("geo:43.238")
    assert "openstreetmap.org" in job["links"]["map"]
    assert job["request"]["skills"] == ["Fibre"]
    assert [e["number"] for e in job["earlier"]] == [before.number]
    assert job["earlier"][0]["reason_label"] == "Customer not at home"
    assert job["checklist"] and job["resolutions"]


def test_the_status_flow_runs_accept_en_route_on_site_done(api, technician, assigned):
    for to in ("accepted", "en_route", "on_site", "completed"):
        assert step(api, technician.user, assigned, to).status_code == 200
    assigned.refresh_from_db()
    assert assigned.status == Visit.Status.COMPLETED
    assert assigned.finished_at is not None
    trail = list(
        StatusChange.objects.filter(request=assigned.request).values_list("to_status", flat=True)
    )
    assert trail == ["assigned", "accepted", "en_route", "on_site", "completed"]


def test_could_not_complete_needs_a_reason(api, technician, assigned):
    for to in ("accepted", "en_route", "on_site"):
        step(api, technician.user, assigned, to)

    refused = step(api, technician.user, assigned, "not_completed")
    step(api, technician.user, assigned, "not_completed", reason="customer_absent")

    assert "Choose why" in refused.json()["detail"]
    assigned.refresh_from_db()
    assert (assigned.status, assigned.reason) == ("not_completed", "customer_absent")
    trail = list(
        StatusChange.objects.filter(request=assigned.request).values_list("to_status", flat=True)
    )
    # An emergency whose customer was out goes to dispatchers to call them (test_follow_up).
    assert trail[-2:] == ["not_completed", "escalated"]


def test_skipping_a_step_asks_for_a_confirmation(api, technician, assigned):
    response = step(api, technician.user, assigned, "completed")

    assert response.status_code == 409
    assert response.json()["code"] == "guard"
    assigned.refresh_from_db()
    assert assigned.status == Visit.Status.SCHEDULED


def test_another_technician_cannot_move_my_visit(api, other_technician, assigned):
    assert step(api, other_technician.user, assigned, "accepted").status_code == 404


def test_the_api_moves_a_visit_for_the_mobile_view(api, technician, assigned):
    response = api(technician.user).post(
        f"/api/v1/visits/{assigned.pk}/transition/", {"to": "accepted"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"


def test_the_day_lists_jobs_in_time_order(technician):
    from tests.factories import RequestFactory

    now = timezone.localtime().replace(hour=6, minute=0)  # 06:00 of the tenant's today
    for hours in (3, 1, 2):
        start = now + timedelta(hours=hours)
        Visit.objects.create(
            tenant=technician.tenant,
            request=RequestFactory(tenant=technician.tenant),
            technician=technician,
            planned_start=start,
            planned_end=start + timedelta(minutes=30),
        )
    starts = [v["planned_start"] for v in day_of(technician.user)["visits"]]
    assert starts == sorted(starts) and len(starts) == 3


def test_arriving_late_pushes_the_rest_of_the_route_and_flags_a_broken_promise(
    api, technician, assigned
):
    from tests.factories import CustomerFactory, RequestFactory

    now = timezone.now()
    Visit.objects.filter(pk=assigned.pk).update(
        planned_start=now - timedelta(hours=2), planned_end=now - timedelta(hours=1)
    )
    client = api(technician.user)
    for to in ("accepted", "en_route"):
        client.post(f"/api/v1/visits/{assigned.pk}/transition/", {"to": to}, format="json")
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

    client.post(f"/api/v1/visits/{assigned.pk}/transition/", {"to": "on_site"}, format="json")

    assigned.refresh_from_db()
    following.refresh_from_db()
    assert assigned.planned_start >= now
    assert following.planned_start >= assigned.planned_end
    assert ServiceRequest.objects.get(pk=next_request.pk).window_at_risk is True


def test_the_day_shows_the_lunch_break_the_plan_placed(technician):
    from technicians.models import Shift

    shift = Shift.objects.get(technician=technician, date=timezone.localdate())
    lunch = timezone.localtime(shift.start).replace(hour=12, minute=30, second=0, microsecond=0)
    shift.lunch_minutes = 30
    shift.break_start, shift.break_end = lunch, lunch + timedelta(minutes=30)
    shift.save()

    placed = day_of(technician.user)["shift"]

    assert placed["break_start"].startswith(lunch.date().isoformat() + "T12:30")
    assert placed["break_end"].startswith(lunch.date().isoformat() + "T13:00")


def test_a_day_without_a_placed_lunch_says_so(technician):
    assert day_of(technician.user)["shift"]["break_start"] is None
