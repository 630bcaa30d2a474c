"""The SMS webhook: signed Twilio-style posts that report faults or answer a reminder."""

import pytest
from django.core.cache import caches
from twilio.request_validator import RequestValidator

from accounts.models import ContactPoint
from core.models import Event
from intake.models import InboundMessage
from intake.signatures import signature_for
from requests_app.models import ServiceRequest, StatusChange
from tests.factories import CustomerFactory
from tests.intake.helpers import (
    SMS_NUMBER,
    SMS_SECRET,
    form_post,
    inbound_setup,
    signed_post,
    tracked_in,
    visit_in,
)

pytestmark = pytest.mark.django_db

URL = "/hooks/sms/"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def inbound(settings, tenant):
    inbound_setup(settings, tenant)


@pytest.fixture
def upcoming(tenant, customer, technician):
    return visit_in(tenant, customer, technician, hours=6)


def sms(client, customer_phone, body, *, sid="SM0001", to=SMS_NUMBER, **kwargs):
    fields = {"MessageSid": sid, "From": customer_phone, "To": to, "Body": body}
    return form_post(client, URL, fields, SMS_SECRET, **kwargs)


def reply_of(response) -> str:
    assert response["Content-Type"].startswith("application/xml")
    text = response.content.decode()
    assert "<Response><Message>" in text
    return text


def test_a_new_report_creates_an_emergency_at_the_customers_registered_location(client, customer):
    response = sms(client, customer.phone, "  The router blinks red since this morning ")

    assert response.status_code == 200
    request = ServiceRequest.objects.get()
    assert request.kind == ServiceRequest.Kind.EMERGENCY
    assert request.category == ServiceRequest.Category.REPAIR
    assert request.channel == ServiceRequest.Channel.SMS
    assert request.customer == customer
    assert (request.lat, request.lon) == (customer.lat, customer.lon)
    assert request.description == "The router blinks red since this morning"
    assert StatusChange.objects.filter(request=request, to_status="new").count() == 1
    assert tracked_in(reply_of(response)) == request
    message = InboundMessage.objects.get()
    assert (message.channel, message.message_id, message.outcome) == ("sms", "SM0001", "created")
    assert (message.tenant, message.request) == (customer.tenant, request)


def test_the_reply_is_escaped_twiml(client, customer, tenant):
    tenant.name = "Fast & <Fiber>"
    tenant.save(update_fields=["name"])

    text = reply_of(sms(client, customer.phone, "no signal"))

    assert "Fast &amp; &lt;Fiber&gt;" in text
    assert "<Fiber>" not in text


def test_an_unknown_sender_is_pointed_to_the_portal_and_no_request_is_made(client):
    response = sms(client, "+77009998877", "Nothing works")

    assert response.status_code == 200
    assert "https://dispatch.example/p/almaty-telecom/" in reply_of(response)
    assert not ServiceRequest.objects.exists()
    assert InboundMessage.objects.get().outcome == "referred"


def test_a_customer_without_a_location_is_pointed_to_the_portal(client, tenant):
    nowhere = CustomerFactory(tenant=tenant, lat=None, lon=None)

    response = sms(client, nowhere.phone, "Nothing works")

    assert "/p/almaty-telecom/" in reply_of(response)
    assert not ServiceRequest.objects.exists()


def test_one_confirms_presence_for_the_upcoming_visit(client, customer, upcoming):
    response = sms(client, customer.phone, " 1 ")

    assert response.status_code == 200
    assert "thank you" in reply_of(response)
    upcoming.refresh_from_db()
    assert upcoming.customer_confirmed_at is not None
    assert Event.objects.filter(kind="request.updated", payload__id=upcoming.pk).exists()
    assert ServiceRequest.objects.count() == 1
    assert InboundMessage.objects.get().request == upcoming


def test_two_answers_with_the_link_to_choose_another_time(client, customer, upcoming):
    response = sms(client, customer.phone, "2")

    assert tracked_in(reply_of(response), query="?change=1") == upcoming
    upcoming.refresh_from_db()
    assert upcoming.customer_confirmed_at is None
    assert InboundMessage.objects.get().outcome == "change_link"


def test_a_reply_without_an_upcoming_visit_creates_nothing(client, customer):
    response = sms(client, customer.phone, "1")

    assert "no upcoming visit" in reply_of(response)
    assert not ServiceRequest.objects.exists()
    assert InboundMessage.objects.get().outcome == "no_visit"


def test_a_replayed_message_id_gets_409_and_changes_nothing(client, customer):
    sms(client, customer.phone, "No internet")

    response = sms(client, customer.phone, "No internet")

    assert response.status_code == 409
    assert ServiceRequest.objects.count() == 1
    assert InboundMessage.objects.count() == 1


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "sha256=ünïcode", "md5=abc"])
def test_a_bad_or_missing_signature_gets_403_and_writes_nothing(client, customer, signature):
    response = sms(client, customer.phone, "No internet", signature=signature)

    assert response.status_code == 403
    assert not ServiceRequest.objects.exists()
    assert not InboundMessage.objects.exists()


def test_a_body_signed_with_another_secret_gets_403(client, customer):
    body = f"MessageSid=SM9&From={customer.phone}&To={SMS_NUMBER}&Body=hi".encode()

    response = signed_post(
        client,
        URL,
        body,
        SMS_SECRET,
        content_type="application/x-www-form-urlencoded",
        signature=signature_for("guessed", body),
    )

    assert response.status_code == 403


def test_an_empty_secret_refuses_every_message(client, customer, settings):
    settings.SMS_WEBHOOK_SECRET = ""

    response = sms(client, customer.phone, "No internet")

    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


def test_a_number_of_no_client_gets_404(client, customer):
    response = sms(client, customer.phone, "No internet", to="+77779990000")

    assert response.status_code == 404
    assert not ServiceRequest.objects.exists()
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"MessageSid=SM1&To=1414&Body=hi",
        b"MessageSid=SM1&From=abc&To=1414&Body=hi",
        b"MessageSid=SM1&From=%2B77011234567&To=1414",
        b"MessageSid=SM1&From=%2B77011234567&To=1414&Body=a%00b",
        b'{"MessageSid": "SM1"}',
    ],
)
def test_garbage_gets_400_and_writes_nothing(client, body):
    response = signed_post(
        client, URL, body, SMS_SECRET, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_a_broken_multipart_body_gets_400(client):
    body = b"--nope\r\nContent-Disposition: form-data\r\n\r\n"

    response = signed_post(
        client, URL, body, SMS_SECRET, content_type="multipart/form-data; boundary=x"
    )

    assert response.status_code == 400


def test_only_post_is_allowed(client):
    assert client.get(URL).status_code == 405


def test_too_many_posts_from_one_address_get_429(client, customer, settings):
    settings.RATELIMIT_ENABLE = True
    settings.WEBHOOK_RATE = "2/m"
    caches["ratelimit"].clear()

    statuses = [sms(client, customer.phone, "hello", sid=f"SM{n}").status_code for n in range(3)]

    assert statuses == [200, 200, 429]
    assert InboundMessage.objects.count() == 2


def test_a_flood_of_unsigned_posts_does_not_stop_a_signed_report(client, customer, settings):
    settings.RATELIMIT_ENABLE = True
    settings.WEBHOOK_RATE, settings.WEBHOOK_REFUSED_RATE = "5/m", "3/m"
    caches["ratelimit"].clear()
    body = f"MessageSid=SMX&From={customer.phone}&To={SMS_NUMBER}&Body=hello"

    forged = [
        signed_post(client, URL, body.encode(), "not-the-secret", content_type=FORM).status_code
        for _ in range(6)
    ]
    genuine = sms(client, customer.phone, "No internet since morning", sid="SM-real")

    assert forged == [403, 403, 403, 429, 429, 429]
    assert genuine.status_code == 200
    assert InboundMessage.objects.filter(message_id="SM-real").exists()


def test_with_the_rate_limit_counters_down_a_signed_report_is_still_taken(
    client, customer, settings
):
    settings.RATELIMIT_ENABLE = True
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {**settings.CACHES["ratelimit"], "LOCATION": "redis://127.0.0.1:9/0"},
    }

    response = sms(client, customer.phone, "No internet since morning", sid="SM-down")

    assert response.status_code == 200
    assert InboundMessage.objects.filter(message_id="SM-down").exists()


@pytest.fixture
def twilio_number(settings, tenant):
    settings.TWILIO_AUTH_TOKEN = "twilio-test-token"
    ContactPoint.objects.filter(kind=ContactPoint.Kind.SMS, address=SMS_NUMBER).update(
        signature=ContactPoint.Signature.TWILIO
    )


def twilio_post(client, fields: dict, token: str = "twilio-test-token"):
    url = "https://dispatch.example" + URL  # PUBLIC_BASE_URL: the address Twilio called
    signature = RequestValidator(token).compute_signature(url, fields)
    return client.post(URL, fields, headers={"X-Twilio-Signature": signature})


def test_a_number_served_by_twilio_takes_twilio_signed_messages(client, customer, twilio_number):
    fields = {
        "MessageSid": "SMtw1",
        "From": customer.phone,
        "To": SMS_NUMBER,
        "Body": "No internet",
    }

    response = twilio_post(client, fields)

    assert response.status_code == 200, response.content
    assert InboundMessage.objects.filter(message_id="SMtw1").exists()


def test_a_twilio_signature_made_with_another_token_is_refused(client, customer, twilio_number):
    fields = {"MessageSid": "SMtw2", "From": customer.phone, "To": SMS_NUMBER, "Body": "hi"}

    assert twilio_post(client, fields, token="someone-elses").status_code == 403
    assert not InboundMessage.objects.exists()


def test_a_twilio_number_refuses_the_generic_signature_and_vice_versa(
    client, customer, twilio_number
):
    hmac_signed = sms(client, customer.phone, "No internet", sid="SMtw3")
    ContactPoint.objects.filter(kind=ContactPoint.Kind.SMS).update(
        signature=ContactPoint.Signature.HMAC
    )
    fields = {"MessageSid": "SMtw4", "From": customer.phone, "To": SMS_NUMBER, "Body": "hi"}
    twilio_signed = twilio_post(client, fields)

    assert (hmac_signed.status_code, twilio_signed.status_code) == (403, 403)
    assert not InboundMessage.objects.exists()


def test_a_second_report_by_sms_joins_the_emergency_the_customer_phoned_in(
    client, api, dispatcher, customer
):
    phoned = api(dispatcher).post(
        "/api/v1/requests/",
        {"kind": "emergency", "category": "repair", "channel": "phone", "customer": customer.pk},
        format="json",
    )
    assert phoned.status_code == 201, phoned.content
    first = ServiceRequest.objects.get()

    response = sms(client, customer.phone, "Still no internet")

    assert response.status_code == 200
    text = reply_of(response)
    assert first.number in text and "already" in text
    assert ServiceRequest.objects.get().reports == 2
    note = StatusChange.objects.filter(request=first).last()
    assert note.reason == "Reported again via SMS: Still no internet"
    message = InboundMessage.objects.get()
    assert (message.outcome, message.request) == ("joined", first)
    assert Event.objects.filter(kind="request.updated", payload__reports=2).exists()
