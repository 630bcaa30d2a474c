"""Role checks on every page and endpoint, for the whole cast."""

import pytest
from django.test import Client

from tests.factories import RequestFactory

pytestmark = pytest.mark.django_db

CAST = ["anonymous", "dispatcher", "manager", "operator", "technician", "other_dispatcher"]

# page → status per member of the cast (302 = sent to the login page)
PAGES = {
    "/board/": {
        "anonymous": 302,
        "dispatcher": 200,
        "manager": 200,
        "operator": 200,
        "technician": 403,
        "other_dispatcher": 200,
    },
    "/tech/": {
        "anonymous": 302,
        "dispatcher": 403,
        "manager": 403,
        "operator": 403,
        "technician": 200,
        "other_dispatcher": 403,
    },
    "/console/": {
        "anonymous": 302,
        "dispatcher": 200,
        "manager": 403,
        "operator": 200,
        "technician": 403,
        "other_dispatcher": 200,
    },
    **{
        page: {
            "anonymous": 302,
            "dispatcher": 403,
            "manager": 200,
            "operator": 403,
            "technician": 403,
            "other_dispatcher": 403,
        }
        for page in ("/surveys/", "/surveys/follow-ups/", "/surveys/audits/", "/surveys/import/")
    },
    "/surveys/calls/": {
        "anonymous": 302,
        "dispatcher": 403,
        "manager": 200,
        "operator": 200,
        "technician": 403,
        "other_dispatcher": 403,
    },
}

API = {
    ("get", "/api/v1/requests/"): {
        "anonymous": 401,
        "dispatcher": 200,
        "manager": 200,
        "operator": 200,
        "technician": 200,
        "other_dispatcher": 200,
    },
    ("post", "/api/v1/requests/"): {
        "anonymous": 401,
        "dispatcher": 400,
        "manager": 403,
        "operator": 400,
        "technician": 403,
        "other_dispatcher": 400,
    },
    ("get", "/api/v1/events/"): {
        "anonymous": 401,
        "dispatcher": 200,
        "manager": 200,
        "operator": 200,
        "technician": 403,
        "other_dispatcher": 200,
    },
    ("get", "/api/v1/requests/{request}/"): {
        "anonymous": 401,
        "dispatcher": 200,
        "manager": 200,
        "operator": 200,
        "technician": 404,
        "other_dispatcher": 404,
    },
    ("get", "/api/v1/requests/{request}/decisions/"): {
        "anonymous": 401,
        "dispatcher": 200,
        "manager": 200,
        "operator": 200,
        "technician": 403,
        "other_dispatcher": 404,
    },
    ("get", "/api/v1/customers/"): {
        "anonymous": 401,
        "dispatcher": 200,
        "manager": 200,
        "operator": 200,
        "technician": 403,
        "other_dispatcher": 200,
    },
    ("get", "/api/v1/customers/{customer}/"): {
        "anonymous": 401,
        "dispatcher": 200,
        "manager": 200,
        "operator": 200,
        "technician": 403,
        "other_dispatcher": 404,
    },
    ("post", "/api/v1/customers/"): {
        "anonymous": 401,
        "dispatcher": 400,
        "manager": 403,
        "operator": 400,
        "technician": 403,
        "other_dispatcher": 400,
    },
    ("get", "/api/v1/windows/"): {
        "anonymous": 401,
        "dispatcher": 400,
        "manager": 403,
        "operator": 400,
        "technician": 403,
        "other_dispatcher": 400,
    },
    ("patch", "/api/v1/requests/{request}/"): {
        "anonymous": 401,
        "dispatcher": 200,
        "manager": 403,
        "operator": 200,
        "technician": 403,
        "other_dispatcher": 404,
    },
    ("post", "/api/v1/requests/{request}/cancel/"): {
        "anonymous": 401,
        "dispatcher": 200,
        "manager": 403,
        "operator": 200,
        "technician": 403,
        "other_dispatcher": 404,
    },
    ("post", "/api/v1/requests/{request}/reschedule/"): {
        "anonymous": 401,
        "dispatcher": 400,
        "manager": 403,
        "operator": 400,
        "technician": 403,
        "other_dispatcher": 404,
    },
    ("post", "/api/v1/visits/{visit}/transition/"): {
        "anonymous": 401,
        "dispatcher": 200,
        "manager": 403,
        "operator": 403,
        "technician": 200,
        "other_dispatcher": 404,
    },
}


@pytest.fixture
def cast(dispatcher, manager, operator, technician, other_dispatcher):
    return {
        "anonymous": None,
        "dispatcher": dispatcher,
        "manager": manager,
        "operator": operator,
        "technician": technician.user,
        "other_dispatcher": other_dispatcher,
    }


@pytest.fixture
def objects(technician):
    from datetime import timedelta

    from django.utils import timezone

    from technicians.models import Visit

    request = RequestFactory(tenant=technician.tenant, status="assigned")
    start = timezone.now()
    visit = Visit.objects.create(
        tenant=technician.tenant,
        request=request,
        technician=technician,
        planned_start=start,
        planned_end=start + timedelta(hours=1),
    )
    return {
        "request": RequestFactory(tenant=technician.tenant).pk,
        "visit": visit.pk,
        "customer": request.customer_id,
    }


@pytest.mark.parametrize("who", CAST)
@pytest.mark.parametrize("page", PAGES)
def test_pages_let_in_only_their_roles(cast, who, page):
    client = Client()
    if cast[who]:
        client.force_login(cast[who])
    assert client.get(page).status_code == PAGES[page][who]


@pytest.mark.parametrize("who", CAST)
@pytest.mark.parametrize("endpoint", API)
def test_endpoints_let_in_only_their_roles(cast, objects, api, who, endpoint):
    method, path = endpoint
    client = api(cast[who])
    url = path.format(**objects)
    body = {"to": "accepted"} if "transition" in path else {}
    response = getattr(client, method)(url, body, format="json")
    assert response.status_code == API[endpoint][who], response.content


def test_the_home_page_sends_each_role_to_its_screen(cast):
    expected = {
        "dispatcher": "/board/",
        "technician": "/tech/",
        "manager": "/board/",
        "operator": "/console/",
    }
    for who, target in expected.items():
        client = Client()
        client.force_login(cast[who])
        assert client.get("/").url == target
