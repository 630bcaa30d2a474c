"""A low score closes the loop: a case for managers with a due time, worked on a list and in the
API, closed with a note; "not solved" can reopen the request; nobody sees another tenant's."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from requests_app.models import StatusChange
from surveys import services
from surveys.models import FollowUpCase
from tests.factories import UserFactory
from tests.surveys.conftest import BAD, GOOD, completed_visit

pytestmark = pytest.mark.django_db

CLOSE = "/api/v1/surveys/followups/{}/close/"


def answered(tenant, raw, **visit):
    invitation = services.invitation_after_visit(visit_id=completed_visit(tenant, **visit).pk)
    token = __import__("tests.surveys.conftest", fromlist=["link_token"]).link_token(invitation)
    return services.response_by_link(token=token, raw=raw)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"q1": "2"}, "satisfaction 2 of 5"),
        ({"q3": "6"}, "recommendation 6 of 10"),
        ({"q2": "0"}, "not solved"),
    ],
)
def test_a_low_score_opens_a_case_due_within_the_tenants_hours(
    tenant, rules, no_delivery, change, reason
):
    response = answered(tenant, {**GOOD, **change})

    case = FollowUpCase.objects.get()
    assert case.response == response and case.request == response.request
    assert reason in case.reason and case.status == "open"
    expected = timezone.now() + timedelta(hours=rules.follow_up_hours)
    assert abs((case.due_at - expected).total_seconds()) < 60


def test_a_good_score_opens_no_case(tenant, rules, no_delivery):
    answered(tenant, {**GOOD, "q1": "3", "q3": "7"})
    assert not FollowUpCase.objects.exists()


def test_a_manager_closes_a_case_with_a_note_and_reopens_the_request(
    tenant, rules, no_delivery, manager, api
):
    response = answered(tenant, BAD)
    case = FollowUpCase.objects.get()

    refused = api(manager).post(CLOSE.format(case.pk), {"note": ""}, format="json")
    closed = api(manager).post(
        CLOSE.format(case.pk), {"note": "Called, new visit booked", "reopen": True}, format="json"
    )
    again = api(manager).post(CLOSE.format(case.pk), {"note": "x"}, format="json")

    assert refused.status_code == 400 and "note" in refused.json()
    assert closed.status_code == 200, closed.content
    assert closed.json()["status"] == "closed" and closed.json()["reopened_request"] is True
    assert again.status_code == 409
    request = response.request
    request.refresh_from_db()
    assert request.status == "new"
    change = StatusChange.objects.filter(request=request).order_by("-pk").first()
    assert (change.from_status, change.to_status, change.actor) == ("completed", "new", manager)


def test_the_managers_page_lists_open_cases_and_closes_one(tenant, rules, no_delivery, manager):
    answered(tenant, BAD)
    case = FollowUpCase.objects.get()
    client = Client()
    client.force_login(manager)

    page = client.get("/surveys/follow-ups/")
    assert page.status_code == 200 and f'data-testid="case-{case.pk}"' in page.content.decode()
    client.post(f"/surveys/follow-ups/{case.pk}/close/", {"note": "Apologised"})

    case.refresh_from_db()
    assert case.status == "closed" and case.closed_by == manager and case.note == "Apologised"


def test_a_manager_of_another_tenant_sees_no_case_and_cannot_close_one(
    tenant, other_tenant, rules, no_delivery, api
):
    answered(tenant, BAD)
    case = FollowUpCase.objects.get()
    stranger = UserFactory(username="beta-manager", tenant=other_tenant, role=Role.MANAGER)

    listed = api(stranger).get("/api/v1/surveys/followups/")
    closing = api(stranger).post(CLOSE.format(case.pk), {"note": "mine now"}, format="json")
    client = Client()
    client.force_login(stranger)

    assert listed.status_code == 200 and listed.json()["results"] == []
    assert closing.status_code == 404
    assert client.post(f"/surveys/follow-ups/{case.pk}/close/", {"note": "x"}).status_code == 404
    case.refresh_from_db()
    assert case.status == "open"


@pytest.mark.parametrize("who", ["dispatcher", "operator", "technician"])
def test_only_managers_work_cases(tenant, rules, no_delivery, api, request, who):
    answered(tenant, BAD)
    member = request.getfixturevalue(who)
    user = getattr(member, "user", member)
    assert api(user).get("/api/v1/surveys/followups/").status_code == 403


def test_the_case_list_takes_the_same_queries_for_one_case_or_many(
    tenant, rules, no_delivery, manager, api
):
    rules.rest_days = 0
    rules.save()
    answered(tenant, BAD)
    client = api(manager)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/v1/surveys/followups/").status_code == 200
    for _ in range(5):
        answered(tenant, BAD)
    with CaptureQueriesContext(connection) as six:
        body = client.get("/api/v1/surveys/followups/").json()
    assert body["count"] == 6
    assert len(six) == len(one)
