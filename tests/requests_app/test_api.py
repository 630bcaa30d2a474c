"""REST API v1 for requests: create, list, retrieve, decisions, and clear errors."""

import pytest

from requests_app.booking import request_create
from requests_app.models import ServiceRequest
from tests.factories import CustomerFactory, RequestFactory

pytestmark = pytest.mark.django_db


def emergency_body(customer, **extra):
    return {"kind": "emergency", "category": "outage", "customer": customer.pk, **extra}


def test_a_dispatcher_creates_an_emergency_and_gets_its_number(api, dispatcher, customer, fiber):
    response = api(dispatcher).post(
        "/api/v1/requests/", emergency_body(customer, required_skills=["fiber"]), format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == "SR-000001"  # the client's first request: numbered per client
    assert body["status"] == "new"
    assert body["required_skills"] == ["fiber"]
    request = ServiceRequest.objects.get(pk=body["id"])
    assert (request.lat, request.lon) == (customer.lat, customer.lon)
    assert request.response_due is not None
    assert request.created_by == dispatcher


def test_bad_input_gets_400_with_a_message_per_field(api, dispatcher, customer):
    response = api(dispatcher).post(
        "/api/v1/requests/",
        {
            "kind": "urgent",
            "category": "outage",
            "customer": customer.pk,
            "lat": 200,
            "lon": 10,
            "estimated_minutes": 0,
        },
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"kind", "lat", "estimated_minutes"}
    assert not ServiceRequest.objects.exists()


def test_a_half_window_is_refused_with_a_field_message(api, dispatcher, customer):
    response = api(dispatcher).post(
        "/api/v1/requests/",
        {
            "kind": "planned",
            "category": "repair",
            "customer": customer.pk,
            "window_start": "2026-11-23T10:00:00+05:00",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "window_end" in response.json()


def test_a_customer_of_another_tenant_reads_as_not_existing(api, dispatcher, other_tenant):
    stranger = CustomerFactory(tenant=other_tenant)

    response = api(dispatcher).post("/api/v1/requests/", emergency_body(stranger), format="json")

    assert response.status_code == 400
    assert "customer" in response.json()


def test_a_skill_of_another_tenant_is_refused(api, dispatcher, customer, other_tenant):
    from tests.factories import SkillFactory

    SkillFactory(tenant=other_tenant, code="secret")
    response = api(dispatcher).post(
        "/api/v1/requests/", emergency_body(customer, required_skills=["secret"]), format="json"
    )
    assert response.status_code == 400
    assert "required_skills" in response.json()


def test_the_list_shows_only_the_users_tenant(api, dispatcher, other_dispatcher):
    mine = RequestFactory(tenant=dispatcher.tenant)
    RequestFactory(tenant=other_dispatcher.tenant)

    body = api(dispatcher).get("/api/v1/requests/").json()

    assert [r["id"] for r in body["results"]] == [mine.pk]


def test_another_tenants_request_is_not_found(api, dispatcher, other_tenant):
    theirs = RequestFactory(tenant=other_tenant)
    assert api(dispatcher).get(f"/api/v1/requests/{theirs.pk}/").status_code == 404


def test_the_list_filters_by_status_and_kind(api, dispatcher):
    RequestFactory(tenant=dispatcher.tenant, kind="planned")
    wanted = RequestFactory(tenant=dispatcher.tenant, kind="emergency")

    body = api(dispatcher).get("/api/v1/requests/?kind=emergency&status=new").json()

    assert [r["id"] for r in body["results"]] == [wanted.pk]


def test_the_list_costs_a_constant_number_of_queries(
    api, dispatcher, django_assert_max_num_queries, technician
):
    from datetime import timedelta

    from django.utils import timezone

    from technicians.models import Visit

    for i in range(10):
        request = RequestFactory(tenant=dispatcher.tenant)
        start = timezone.now() + timedelta(hours=i)
        Visit.objects.create(
            tenant=dispatcher.tenant,
            request=request,
            technician=technician,
            planned_start=start,
            planned_end=start + timedelta(minutes=30),
        )
    client = api(dispatcher)
    # 5, and 3 to set the tenant scope: nobody (the page middleware, before DRF's forced
    # authentication), the dispatcher's, and back to rest.
    with django_assert_max_num_queries(8):
        body = client.get("/api/v1/requests/").json()
    assert body["count"] == 10
    assert all(r["visit"]["technician"] for r in body["results"])


def test_a_technician_sees_only_requests_assigned_to_them(api, technician, other_technician):
    from dispatch.engine.emergency import request_assign
    from tests.dispatch.test_assignment import emergency

    mine = emergency(technician.tenant)
    request_assign(request_id=mine.pk)
    RequestFactory(tenant=technician.tenant)

    body = api(technician.user).get("/api/v1/requests/").json()

    assert [r["id"] for r in body["results"]] == [mine.pk]


def test_decisions_explain_an_automatic_assignment(api, dispatcher, technician, customer):
    from dispatch.engine.emergency import request_assign

    request = request_create(
        tenant=dispatcher.tenant,
        customer=customer,
        kind="emergency",
        category="outage",
        channel="api",
    )
    request_assign(request_id=request.pk)

    body = api(dispatcher).get(f"/api/v1/requests/{request.pk}/decisions/").json()

    assert body[0]["outcome"] == "assigned"
    assert body[0]["candidates"][0]["technician_id"] == technician.pk


def test_the_openapi_schema_is_generated(api):
    response = api().get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/requests/" in response.content
