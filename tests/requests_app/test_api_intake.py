"""API v1 for intake: windows, booking, idempotent create, reschedule, cancel, customers."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification
from requests_app.models import ServiceRequest, StatusChange
from technicians.models import Visit
from tests.dispatch.test_windows import at, crew, tomorrow
from tests.factories import CustomerFactory, RequestFactory

pytestmark = pytest.mark.django_db


def planned_body(customer, start, end, **extra):
    return {
        "kind": "planned",
        "category": "installation",
        "customer": customer.pk,
        "estimated_minutes": 90,
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        **extra,
    }


def booked_through_the_api(api, operator, customer) -> dict:
    """A crew on shift tomorrow and a planned request booked for 10:00–12:00, as the API
    answered it."""
    tenant = operator.tenant
    crew(tenant)
    day = tomorrow(tenant)
    body = planned_body(customer, at(tenant, day, 10), at(tenant, day, 12))
    return api(operator).post("/api/v1/requests/", body, format="json").json()


def test_the_windows_endpoint_lists_reachable_windows_best_first(api, operator, customer):
    tenant = operator.tenant
    crew(tenant, start=8, end=12)
    day = tomorrow(tenant)

    response = api(operator).get(
        "/api/v1/windows/",
        {"customer": customer.pk, "minutes": 90, "date_from": day, "date_to": day},
    )

    assert response.status_code == 200, response.content
    offers = response.json()
    assert {o["start"][:16] for o in offers} == {
        at(tenant, day, 8).isoformat()[:16],
        at(tenant, day, 10).isoformat()[:16],
    }
    assert [o["score"] for o in offers] == sorted(o["score"] for o in offers)


def test_the_windows_endpoint_needs_a_location(api, operator):
    response = api(operator).get("/api/v1/windows/", {"minutes": 60})

    assert response.status_code == 400
    assert "lat" in response.json()


def test_booking_through_the_api_holds_a_visit_in_the_window(api, operator, customer):
    tenant = operator.tenant
    crew(tenant, start=8, end=12)
    day = tomorrow(tenant)
    start, end = at(tenant, day, 10), at(tenant, day, 12)

    response = api(operator).post(
        "/api/v1/requests/", planned_body(customer, start, end), format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "assigned"
    assert start.isoformat()[:16] <= body["visit"]["planned_start"][:16] <= end.isoformat()[:16]
    # The customer's own link goes to the customer, never into a staff answer.
    assert "tracking_url" not in body
    sent = Notification.objects.get(request_id=body["id"], kind="window_booked")
    assert (sent.recipient, "/t/" in sent.body) == (customer.phone, True)


def test_no_staff_answer_carries_the_customers_tracking_link(api, technician, manager):
    request = RequestFactory(tenant=technician.tenant)
    Visit.objects.create(
        tenant=technician.tenant,
        request=request,
        technician=technician,
        planned_start=timezone.now(),
        planned_end=timezone.now() + timedelta(hours=1),
    )

    for user in (technician.user, manager):
        listed = api(user).get("/api/v1/requests/").json()["results"]
        one = api(user).get(f"/api/v1/requests/{request.pk}/").json()

        assert [row["id"] for row in listed] == [request.pk]
        assert "/t/" not in str(listed) + str(one)


def test_a_full_window_is_refused_with_409_and_nothing_is_created(api, operator, customer):
    tenant = operator.tenant
    crew(tenant, start=8, end=10)
    day = tomorrow(tenant)
    window = (at(tenant, day, 8), at(tenant, day, 10))
    assert (
        api(operator)
        .post("/api/v1/requests/", planned_body(customer, *window), format="json")
        .status_code
        == 201
    )

    response = api(operator).post(
        "/api/v1/requests/", planned_body(customer, *window), format="json"
    )

    assert response.status_code == 409
    assert "window_start" in response.json()
    assert ServiceRequest.objects.count() == 1


def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer(api, operator, customer):
    client = api(operator)
    body = {"kind": "emergency", "category": "outage", "customer": customer.pk}

    first = client.post("/api/v1/requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert ServiceRequest.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(api, operator, customer):
    client = api(operator)
    body = {"kind": "emergency", "category": "outage", "customer": customer.pk}
    client.post("/api/v1/requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    response = client.post(
        "/api/v1/requests/",
        {**body, "category": "repair"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )

    assert response.status_code == 422
    assert ServiceRequest.objects.count() == 1


def test_a_failed_create_does_not_burn_its_idempotency_key(api, operator, customer):
    client = api(operator)
    bad = {"kind": "emergency", "category": "nonsense", "customer": customer.pk}
    assert (
        client.post("/api/v1/requests/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-3").status_code
        == 400
    )

    good = {**bad, "category": "outage"}
    response = client.post("/api/v1/requests/", good, format="json", HTTP_IDEMPOTENCY_KEY="k-3")

    assert response.status_code == 201


def test_rescheduling_through_the_api_records_who_and_why(api, operator, customer):
    tenant, day = operator.tenant, tomorrow(operator.tenant)
    created = booked_through_the_api(api, operator, customer)

    response = api(operator).post(
        f"/api/v1/requests/{created['id']}/reschedule/",
        {
            "window_start": at(tenant, day, 16).isoformat(),
            "window_end": at(tenant, day, 18).isoformat(),
            "reason": "customer called back",
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["window_start"][:16] == at(tenant, day, 16).isoformat()[:16]
    change = StatusChange.objects.get(request_id=created["id"], to_status="rescheduled")
    assert change.actor == operator and "customer called back" in change.reason


def test_cancelling_through_the_api_releases_the_visit(api, operator, customer):
    created = booked_through_the_api(api, operator, customer)

    response = api(operator).post(
        f"/api/v1/requests/{created['id']}/cancel/", {"reason": "no longer needed"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert not Visit.objects.filter(request_id=created["id"], status__in=Visit.ACTIVE).exists()


def test_cancelling_a_completed_request_is_a_conflict(api, operator):
    done = RequestFactory(tenant=operator.tenant, status="completed")

    response = api(operator).post(f"/api/v1/requests/{done.pk}/cancel/", {}, format="json")

    assert response.status_code == 409


def test_patch_changes_the_description_but_not_the_window(api, operator):
    request = RequestFactory(tenant=operator.tenant)

    response = api(operator).patch(
        f"/api/v1/requests/{request.pk}/",
        {"description": "gate code 1234", "window_start": "2030-01-01T10:00:00Z"},
        format="json",
    )

    assert response.status_code == 200
    request.refresh_from_db()
    assert request.description == "gate code 1234"
    assert request.window_start is None


def test_a_technician_cannot_change_or_cancel_requests(api, technician):
    request = RequestFactory(tenant=technician.tenant)
    client = api(technician.user)

    assert client.patch(f"/api/v1/requests/{request.pk}/", {}, format="json").status_code == 403
    assert client.post(f"/api/v1/requests/{request.pk}/cancel/", {}).status_code == 403
    assert client.get("/api/v1/windows/", {"lat": 43.2, "lon": 76.9}).status_code == 403


def test_customers_are_found_by_phone_with_the_repeat_contact_flag(api, operator):
    caller = CustomerFactory(tenant=operator.tenant, phone="+77011234567")
    RequestFactory(tenant=operator.tenant, customer=caller)
    CustomerFactory(tenant=operator.tenant)

    body = api(operator).get("/api/v1/customers/", {"phone": "8 (701) 123-45-67"}).json()

    assert [c["id"] for c in body["results"]] == [caller.pk]
    assert body["results"][0]["repeat_contact"] is True


def test_an_operator_registers_a_customer_with_a_normalised_phone(api, operator):
    response = api(operator).post(
        "/api/v1/customers/",
        {"name": "Aigerim", "phone": "8 701 555 00 11", "lat": 43.25, "lon": 76.9},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["phone"] == "+77015550011"


def test_another_tenants_customers_are_invisible(api, operator, other_tenant):
    theirs = CustomerFactory(tenant=other_tenant)

    assert api(operator).get(f"/api/v1/customers/{theirs.pk}/").status_code == 404
    assert api(operator).get("/api/v1/customers/").json()["count"] == 0


def test_a_window_already_over_cannot_be_rescheduled_into(api, operator):
    request = RequestFactory(tenant=operator.tenant)
    past = timezone.now() - timedelta(hours=3)

    response = api(operator).post(
        f"/api/v1/requests/{request.pk}/reschedule/",
        {"window_start": past.isoformat(), "window_end": (past + timedelta(hours=2)).isoformat()},
        format="json",
    )

    assert response.status_code == 400
    assert "window_start" in response.json()
