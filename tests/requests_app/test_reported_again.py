"""A customer who reports the same emergency again, by any channel, joins the open one: one
request, one visit, and the board shows it was reported again (issue #11)."""

from unittest import mock

import pytest

from core.models import Event
from requests_app.booking import request_create
from requests_app.models import ServiceRequest, StatusChange
from tests.factories import CustomerFactory, RequestFactory

pytestmark = pytest.mark.django_db

ELSEWHERE = (43.3500, 77.0500)  # about 18 km from the customer


def emergency_body(customer, **extra):
    return {
        "kind": "emergency",
        "category": "repair",
        "channel": "phone",
        "customer": customer.pk,
        "description": "No internet",
        **extra,
    }


@pytest.fixture
def first(tenant, customer):
    with mock.patch("core.followups.enqueue_on_commit"):
        return request_create(
            tenant=tenant,
            customer=customer,
            kind="emergency",
            category="repair",
            channel="phone",
            description="No internet",
        )


def test_a_second_emergency_of_the_customer_at_the_same_place_joins_the_first(
    api, dispatcher, customer, first
):
    events_before = Event.objects.count()

    response = api(dispatcher).post(
        "/api/v1/requests/", emergency_body(customer, channel="web"), format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == first.pk
    assert body["reports"] == 2
    assert ServiceRequest.objects.count() == 1
    note = StatusChange.objects.filter(request=first).last()
    assert (note.from_status, note.to_status) == ("new", "new")
    assert note.reason.startswith("Reported again via Web portal")
    assert note.actor == dispatcher
    event = Event.objects.filter(pk__gt=0).order_by("-pk").first()
    assert Event.objects.count() == events_before + 1
    assert (event.kind, event.payload["id"], event.payload["reports"]) == (
        "request.updated",
        first.pk,
        2,
    )


def test_the_same_address_text_joins_even_when_the_coordinates_differ(
    api, dispatcher, customer, first
):
    response = api(dispatcher).post(
        "/api/v1/requests/",
        emergency_body(customer, lat=ELSEWHERE[0], lon=ELSEWHERE[1], address=first.address),
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["id"] == first.pk


def test_a_joined_report_does_not_ask_for_a_second_assignment(tenant, customer, first):
    with mock.patch("core.followups.enqueue_on_commit") as enqueue:
        again = request_create(
            tenant=tenant, customer=customer, kind="emergency", category="repair", channel="sms"
        )

    assert again.pk == first.pk and again.joined
    enqueue.assert_not_called()


def test_another_customer_at_the_same_address_is_not_joined(api, dispatcher, tenant, first):
    neighbour = CustomerFactory(tenant=tenant, address=first.address, lat=first.lat, lon=first.lon)

    response = api(dispatcher).post("/api/v1/requests/", emergency_body(neighbour), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["id"] != first.pk
    assert response.json()["reports"] == 1


def test_the_same_customer_somewhere_else_is_not_joined(api, dispatcher, customer, first):
    response = api(dispatcher).post(
        "/api/v1/requests/",
        emergency_body(customer, lat=ELSEWHERE[0], lon=ELSEWHERE[1], address="Dostyk 5"),
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["reports"] == 1


def test_a_report_after_the_first_is_done_opens_a_new_request(api, dispatcher, customer, first):
    ServiceRequest.objects.filter(pk=first.pk).update(status=ServiceRequest.Status.COMPLETED)

    response = api(dispatcher).post("/api/v1/requests/", emergency_body(customer), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["id"] != first.pk
    assert response.json()["reports"] == 1


def test_a_planned_request_is_never_joined(tenant, customer):
    planned = RequestFactory(tenant=tenant, customer=customer)
    with mock.patch("core.followups.enqueue_on_commit"):
        emergency = request_create(
            tenant=tenant, customer=customer, kind="emergency", category="repair", channel="sms"
        )

    assert emergency.pk != planned.pk and not emergency.joined
