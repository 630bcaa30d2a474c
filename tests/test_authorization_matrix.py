"""The authorization matrix, generated from the OpenAPI schema: every operation × every member of
the cast × an object of the user's own tenant or of another. Whatever the schema grows, nobody
reaches another tenant's object, nobody signed out reaches anything, and a technician changes
nothing but their own visits."""

import pytest
from django.test import Client
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from contacts.services import contact_create
from technicians.models import Visit
from tests.factories import (
    CustomerFactory,
    RequestFactory,
    TechnicianFactory,
    export_job,
    follow_up_case,
)

pytestmark = pytest.mark.django_db

# The collection a path's `{id}` names → how to make one such object in a tenant.
MAKERS = {
    "requests": lambda tenant: RequestFactory(tenant=tenant),
    "customers": lambda tenant: CustomerFactory(tenant=tenant),
    "visits": lambda tenant: _visit(tenant),
    "technicians": lambda tenant: TechnicianFactory(tenant=tenant),
    "followups": follow_up_case,
    "exports": export_job,
    "contacts": lambda tenant: contact_create(tenant=tenant, channel="email", sender="a@b.kz"),
}


def _visit(tenant) -> Visit:
    now = timezone.now()
    return Visit.objects.create(
        tenant=tenant,
        request=RequestFactory(tenant=tenant),
        technician=TechnicianFactory(tenant=tenant),
        planned_start=now,
        planned_end=now + timezone.timedelta(hours=1),
    )


def operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, methods in schema["paths"].items():
        for method in methods:
            if method in ("get", "post", "put", "patch", "delete"):
                found.append((method, path))
    return sorted(found)


OPERATIONS = operations()
WITH_ID = [(method, path) for method, path in OPERATIONS if "{id}" in path]


def _collection(path: str) -> str:
    """What a path names: the segment before its `{id}` (`/board/requests/{id}/` names a
    request), else its first one."""
    parts = path.removeprefix("/api/v1/").split("/")
    return parts[parts.index("{id}") - 1] if "{id}" in parts else parts[0]


def _call(client, method: str, path: str, object_id: int | None):
    url = path.replace("{id}", str(object_id)) if object_id is not None else path
    return getattr(client, method)(url, {}, format="json") if method != "get" else client.get(url)


def _client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_the_matrix_covers_the_api():
    assert len(OPERATIONS) >= 15 and len(WITH_ID) >= 8
    assert {_collection(path) for _, path in WITH_ID} <= set(MAKERS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_nobody_signed_out_reaches_any_operation(method, path, tenant):
    object_id = MAKERS[_collection(path)](tenant).pk if "{id}" in path else None

    assert _call(_client(None), method, path, object_id).status_code == 401


@pytest.mark.parametrize(("method", "path"), WITH_ID)
@pytest.mark.parametrize("member", ["dispatcher", "manager", "operator"])
def test_no_member_of_another_tenant_reaches_an_object(method, path, member, request, other_tenant):
    user = request.getfixturevalue(member)  # of the first tenant
    foreign = MAKERS[_collection(path)](other_tenant)

    response = _call(_client(user), method, path, foreign.pk)

    assert response.status_code in (403, 404), (response.status_code, response.content[:200])


@pytest.mark.parametrize(("method", "path"), [op for op in WITH_ID if op[0] != "get"])
def test_a_technician_changes_nothing_but_their_own_visits(method, path, technician, tenant):
    own = path.startswith("/api/v1/visits/{id}/transition/")
    if own:
        target = _visit(tenant)
        target.technician = technician
        target.save(update_fields=["technician"])
    else:
        target = MAKERS[_collection(path)](tenant)

    response = _call(_client(technician.user), method, path, target.pk)

    if own:
        assert response.status_code in (200, 400, 409)  # allowed; {} is no valid step
    else:
        assert response.status_code in (403, 404), (response.status_code, response.content[:200])


def test_lists_show_no_other_tenants_rows(dispatcher, other_tenant):
    RequestFactory(tenant=other_tenant)
    CustomerFactory(tenant=other_tenant)
    TechnicianFactory(tenant=other_tenant)
    client = Client()
    client.force_login(dispatcher)

    lists = ("/api/v1/requests/", "/api/v1/customers/", "/api/v1/technicians/")
    for url in (*lists, "/api/v1/events/?after=0", "/api/v1/board/queue/"):
        body = client.get(url).json()
        rows = body.get("results", body.get("events", []))
        assert rows == [], url
    timeline = client.get("/api/v1/board/timeline/").json()
    assert timeline["technicians"] == timeline["visits"] == []
