"""Position with privacy by default: consent, only en route, on shift, bounded, kept 30 days;
the ETA and "arrived" come from it; the customer's live link shows it and then ends."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core.retention import purge_expired
from fieldwork import services
from fieldwork.links import live_url
from fieldwork.models import LocationPing
from notifications.models import Notification
from technicians.models import Shift, Visit

pytestmark = pytest.mark.django_db
NEAR_JOB = (43.2385, 76.8890)  # ~55 m north of the job (tests.factories.ALMATY)
ACROSS_TOWN = (43.30, 76.95)


@pytest.fixture
def en_route(job, technician):
    technician.location_consent = True
    technician.save()
    Visit.objects.filter(pk=job.pk).update(status="en_route")
    job.refresh_from_db()
    return job


def post(api, technician, visit, point):
    return api(technician.user).post(
        "/api/v1/me/location/",
        {"visit": visit.pk, "lat": point[0], "lon": point[1]},
        format="json",
    )


def test_without_consent_no_position_is_taken(api, technician, en_route):
    technician.location_consent = False
    technician.save()

    response = post(api, technician, en_route, ACROSS_TOWN)

    assert response.status_code == 409
    assert response.json()["reason"] == "no_consent"
    assert not LocationPing.objects.exists()


@pytest.mark.parametrize("status", ["scheduled", "accepted", "on_site", "completed"])
def test_a_position_is_taken_only_between_on_my_way_and_arrived(api, technician, en_route, status):
    Visit.objects.filter(pk=en_route.pk).update(status=status)

    response = post(api, technician, en_route, ACROSS_TOWN)

    assert response.status_code == 409
    assert response.json()["reason"] == "not_en_route"


def test_never_off_shift(api, technician, en_route):
    Shift.objects.filter(technician=technician).update(end=timezone.now() - timedelta(minutes=1))

    response = post(api, technician, en_route, ACROSS_TOWN)

    assert response.json()["reason"] == "off_shift"


def test_a_position_en_route_gives_the_eta_and_near_the_job_suggests_arrived(
    api, technician, en_route
):
    far = post(api, technician, en_route, ACROSS_TOWN).json()
    technician.refresh_from_db()
    technician.last_seen_at -= timedelta(seconds=30)
    technician.save()
    near = post(api, technician, en_route, NEAR_JOB).json()

    assert far["stored"] and far["eta_minutes"] > 10 and not far["near"]
    assert near["near"] and near["distance_m"] < 100
    technician.refresh_from_db()
    assert (technician.last_lat, technician.last_lon) == NEAR_JOB


def test_positions_are_stored_at_most_every_few_seconds(api, technician, en_route):
    answers = [post(api, technician, en_route, ACROSS_TOWN).json() for _ in range(3)]

    assert [a["stored"] for a in answers] == [True, False, False]
    assert LocationPing.objects.count() == 1


def test_positions_are_purged_after_the_retention(api, technician, en_route, settings):
    post(api, technician, en_route, ACROSS_TOWN)
    later = timezone.now() + timedelta(days=settings.RETENTION_DAYS["location_pings"] + 1)

    assert purge_expired(now=timezone.now())["location_pings"] == 0
    assert purge_expired(now=later)["location_pings"] == 1
    assert not LocationPing.objects.exists()


def test_an_eta_past_the_window_end_tells_the_customer_once(api, technician, en_route):
    en_route.request.window_end = timezone.now() + timedelta(minutes=5)
    en_route.request.save()

    post(api, technician, en_route, ACROSS_TOWN)
    technician.refresh_from_db()
    technician.last_seen_at -= timedelta(seconds=30)
    technician.save()
    post(api, technician, en_route, ACROSS_TOWN)

    late = Notification.objects.filter(kind="eta_late")
    assert late.count() == 1
    assert "running late" in late.get().body and "/live/" in late.get().body


def test_on_my_way_tells_the_customer_in_their_language_with_a_live_link(technician, en_route):
    tenant = technician.tenant
    tenant.language = "en"
    tenant.save()

    message = services.customer_told_on_my_way(visit_id=en_route.pk)
    again = services.customer_told_on_my_way(visit_id=en_route.pk)

    assert again is None  # once per visit
    assert technician.user.first_name in message.body
    assert "arriving around" in message.body and "/live/" in message.body


def test_an_emergency_customer_hears_who_is_assigned_and_when(technician):
    from dispatch.engine.emergency import request_assign
    from tests.dispatch.test_assignment import emergency

    request = emergency(technician.tenant)
    request_assign(request_id=request.pk)
    visit = Visit.objects.get(request=request)

    message = services.customer_told_assigned(visit_id=visit.pk)

    assert message.kind == "emergency_assigned"
    assert message.recipient == request.customer.phone


def test_the_live_link_shows_the_eta_and_position_and_ends_an_hour_after_the_visit(
    api, technician, en_route
):
    post(api, technician, en_route, ACROSS_TOWN)
    url = live_url(en_route).replace("http://127.0.0.1:8000", "")
    customer = Client()

    page = customer.get(url)
    state = customer.get(url + "state/").json()

    assert page.status_code == 200 and technician.user.first_name in page.content.decode()
    assert state["position"] == {"lat": ACROSS_TOWN[0], "lon": ACROSS_TOWN[1]}
    assert state["eta"] is not None
    Visit.objects.filter(pk=en_route.pk).update(
        status="completed", finished_at=timezone.now() - timedelta(minutes=61)
    )
    assert customer.get(url).status_code == 410
    assert customer.get(url + "state/").status_code == 410


def test_an_altered_live_link_is_not_found(en_route):
    url = live_url(en_route).replace("http://127.0.0.1:8000", "")

    assert Client().get(url[:-3] + "xx/").status_code == 404


def test_consent_is_set_on_the_phone(api, technician):
    response = api(technician.user).post("/api/v1/me/consent/", {"location": True}, format="json")

    assert response.json() == {"location": True}
    technician.refresh_from_db()
    assert technician.location_consent and technician.location_consent_at
