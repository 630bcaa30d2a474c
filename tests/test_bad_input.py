"""Input found to crash the server from outside gets a 400 with a message, never a 500."""

import pytest
from django.test.client import FakePayload
from django.utils import timezone

from intake.models import InboundMessage
from intake.signatures import signature_for
from requests_app.models import ServiceRequest
from technicians.models import Visit
from tests.dispatch.test_emergency_insertion import planned_visit
from tests.intake.helpers import SMS_NUMBER, SMS_SECRET, inbound_setup

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        {"created_after": "2026-12-01T10:00:00+16:00"},  # an offset no clock has
        {"created_after": "not a time"},
        {"limit": "99999999999999999999"},
        {"offset": "99999999999999999999"},
    ],
)
def test_a_list_query_out_of_range_is_a_400(api, dispatcher, query):
    response = api(dispatcher).get("/api/v1/requests/", query)

    assert response.status_code == 400, response.content
    assert set(query) & set(response.json())


@pytest.mark.parametrize("day", ["9999-12-30", "0001-01-01"])
def test_windows_for_a_date_at_the_end_of_the_calendar_are_a_400(api, operator, day):
    response = api(operator).get(
        "/api/v1/windows/", {"lat": 43.2, "lon": 76.9, "date_from": day, "date_to": day}
    )

    assert response.status_code == 400, response.content
    assert "date_from" in response.json()


def test_a_json_body_nested_thousands_deep_is_a_400(api, dispatcher):
    body = "[" * 5000 + "]" * 5000

    response = api(dispatcher).post("/api/v1/requests/", body, content_type="application/json")

    assert response.status_code == 400
    assert ServiceRequest.objects.count() == 0


def test_a_nul_byte_in_a_description_is_a_400_with_the_field(api, dispatcher, customer):
    body = {"kind": "emergency", "category": "outage", "customer": customer.pk}

    response = api(dispatcher).post(
        "/api/v1/requests/", {**body, "description": "no internet\x00"}, format="json"
    )

    assert response.status_code == 400
    assert "description" in response.json()


def test_a_nul_byte_in_a_technicians_note_is_refused_with_a_message(api, technician):
    visit = planned_visit(technician, starts_in=30)
    Visit.objects.filter(pk=visit.pk).update(status="on_site")
    done = {
        "client_id": "6f1c1a52-8f5e-4a43-9a55-0a4a3c1c0001",
        "kind": "step",
        "visit": visit.pk,
        "at": timezone.now().isoformat(),
        "to": "completed",
        "resolution": "done",
        "note": "done\x00",
    }

    response = api(technician.user).post("/api/v1/me/actions/", {"actions": [done]}, format="json")

    result = response.json()["results"][0]
    assert (result["outcome"], result["status"]) == ("invalid", 400)
    assert "note" in result["detail"]
    visit.refresh_from_db()
    assert visit.status == "on_site"  # not finished with a note the database cannot hold


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded; charset=klingon", b"MessageSid=SM1&Body=hi"),
        ("application/x-www-form-urlencoded", b"MessageSid=SM2&Body=\xff\xfe broken"),
    ],
)
def test_a_signed_webhook_in_an_unknown_charset_or_broken_utf8_creates_nothing(
    client, settings, tenant, customer, content_type, body
):
    inbound_setup(settings, tenant)
    body += f"&From={customer.phone}&To={SMS_NUMBER}".encode()

    # Built by hand: the test client itself cannot encode for an unknown charset.
    response = client.request(
        REQUEST_METHOD="POST",
        PATH_INFO="/hooks/sms/",
        CONTENT_TYPE=content_type,
        CONTENT_LENGTH=str(len(body)),
        HTTP_X_SIGNATURE=signature_for(SMS_SECRET, body),
        **{"wsgi.input": FakePayload(body)},
    )

    assert response.status_code == 400
    assert not ServiceRequest.objects.exists()
    assert not InboundMessage.objects.exists()
