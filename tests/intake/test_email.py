"""The inbound e-mail webhook: a raw RFC 822 message becomes an outage or a visit to plan."""

import base64
import hashlib
import hmac
import time
from email.message import EmailMessage

import pytest

from intake.models import InboundMessage
from notifications.models import Notification
from requests_app.models import ServiceRequest, StatusChange
from tests.intake.helpers import (
    EMAIL_ADDRESS,
    EMAIL_SECRET,
    inbound_setup,
    signed_post,
    tracked_in,
)

pytestmark = pytest.mark.django_db

URL = "/hooks/email/"


@pytest.fixture(autouse=True)
def inbound(settings, tenant):
    inbound_setup(settings, tenant)


@pytest.fixture
def writer(customer):
    customer.email = "aigerim@example.kz"
    customer.save(update_fields=["email"])
    return customer


def mail(subject, text="", *, sender="Aigerim <Aigerim@Example.kz>", to=EMAIL_ADDRESS, **headers):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = headers.pop("message_id", "<m1@example.kz>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message.as_bytes()


def post(client, raw: bytes, **kwargs):
    return signed_post(client, URL, raw, EMAIL_SECRET, content_type="message/rfc822", **kwargs)


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        ("Outage", "Since 9 o'clock."),
        ("Help", "There is no internet in the whole building"),
        ("Проблема", "Со вчерашнего дня нет интернета."),
        ("Авария", ""),
        ("Көмек", "Үйде интернет жоқ"),
    ],
)
def test_an_outage_wording_makes_an_emergency(client, writer, subject, text):
    response = post(client, mail(subject, text))

    assert response.status_code == 200
    request = ServiceRequest.objects.get()
    assert response.json() == {"request": request.pk, "outcome": "created"}
    assert request.kind == ServiceRequest.Kind.EMERGENCY
    assert request.category == ServiceRequest.Category.OUTAGE
    assert request.channel == ServiceRequest.Channel.EMAIL
    assert request.description.startswith(subject)
    reply = Notification.objects.get(request=request)
    assert reply.channel == "email"
    assert reply.recipient == "aigerim@example.kz"
    assert tracked_in(reply.body) == request


def test_other_mail_makes_a_planned_request_and_sends_the_link_to_pick_a_window(client, writer):
    response = post(client, mail("Move my router", "To the bedroom, please."))

    request = ServiceRequest.objects.get()
    assert response.json() == {"request": request.pk, "outcome": "created"}
    assert request.kind == ServiceRequest.Kind.PLANNED
    assert request.category == ServiceRequest.Category.REPAIR
    assert (request.window_start, request.window_end) == (None, None)
    assert request.description == "Move my router\n\nTo the bedroom, please."
    assert (request.lat, request.lon) == (writer.lat, writer.lon)
    assert StatusChange.objects.filter(request=request, to_status="new").count() == 1
    reply = Notification.objects.get()
    assert tracked_in(reply.body, query="?change=1") == request
    message = InboundMessage.objects.get()
    assert (message.channel, message.message_id) == ("email", "<m1@example.kz>")
    assert (message.sender, message.request) == ("aigerim@example.kz", request)


def test_the_envelope_recipient_names_the_tenant_when_to_is_a_list(client, writer):
    raw = mail("Move my router", to="family@example.kz", Delivered_To=EMAIL_ADDRESS)

    assert post(client, raw).json()["outcome"] == "created"


def test_an_html_only_mail_is_read_without_its_tags(client, writer):
    message = EmailMessage()
    message["From"], message["To"] = writer.email, EMAIL_ADDRESS
    message["Subject"], message["Message-ID"] = "Hi", "<html@example.kz>"
    message.set_content("<p>Router <b>not working</b></p>", subtype="html")

    post(client, message.as_bytes())

    request = ServiceRequest.objects.get()
    assert request.description == "Hi\n\nRouter not working"
    assert request.kind == ServiceRequest.Kind.EMERGENCY


def test_an_undecodable_body_leaves_the_subject(client, writer):
    raw = (
        f"From: {writer.email}\r\nTo: {EMAIL_ADDRESS}\r\nSubject: Internet is down\r\n"
        "Message-ID: <odd@example.kz>\r\nContent-Type: text/plain; charset=x-nonsense\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n!!!not base64\xff\r\n"
    ).encode("latin-1")

    response = post(client, raw)

    assert response.status_code == 200
    assert ServiceRequest.objects.get().description.startswith("Internet is down")


def test_an_unknown_sender_gets_the_portal_link_and_no_request(client):
    response = post(client, mail("No internet", sender="stranger@example.com"))

    assert response.status_code == 200
    assert response.json() == {"request": None, "outcome": "referred"}
    assert not ServiceRequest.objects.exists()
    reply = Notification.objects.get()
    assert reply.recipient == "stranger@example.com"
    assert "https://dispatch.example/p/almaty-telecom/" in reply.body


def test_an_auto_reply_is_recorded_but_not_answered(client, writer):
    response = post(client, mail("Out of office", Auto_Submitted="auto-replied"))

    assert response.json() == {"request": None, "outcome": "ignored"}
    assert not ServiceRequest.objects.exists()
    assert not Notification.objects.exists()


def test_a_replayed_message_id_gets_409_and_changes_nothing(client, writer):
    post(client, mail("No internet"))

    response = post(client, mail("No internet again"))

    assert response.status_code == 409
    assert ServiceRequest.objects.count() == 1
    assert Notification.objects.count() == 1


def test_a_bad_signature_gets_403_and_writes_nothing(client, writer):
    response = post(client, mail("No internet"), signature="sha256=deadbeef")

    assert response.status_code == 403
    assert not ServiceRequest.objects.exists()
    assert not InboundMessage.objects.exists()


def test_mail_to_an_address_of_no_client_gets_404(client, writer):
    response = post(client, mail("No internet", to="sales@elsewhere.kz"))

    assert response.status_code == 404
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\x01\x02\xff garbage without headers",
        b"Subject: no sender\r\n\r\nhello",
        f"From: a@example.kz\r\nTo: {EMAIL_ADDRESS}\r\n\r\nno message id".encode(),
        b"From: =?utf-8?q?broken\r\nTo: <<<@>>>\r\nMessage-ID: <x>\r\n\r\n",
    ],
)
def test_garbage_gets_400_and_writes_nothing(client, raw):
    response = post(client, raw)

    assert response.status_code == 400
    assert "error" in response.json()
    assert not InboundMessage.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize("sender", [EMAIL_ADDRESS, "MAILER-DAEMON@mx.example.kz"])
def test_mail_from_our_own_address_or_a_mailer_daemon_is_not_answered(client, sender):
    response = post(client, mail("Undelivered: your request", sender=sender))

    assert response.json() == {"request": None, "outcome": "ignored"}
    assert not Notification.objects.exists()


def mailgun_post(client, raw: bytes, *, key="dev-mailgun-key", auth="dev:anymail-secret"):
    """Mailgun forwarding a message to its inbound route, signed as Mailgun signs."""
    timestamp, token = str(int(time.time())), "a" * 50
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    fields = {
        "body-mime": raw.decode(),
        "timestamp": timestamp,
        "token": token,
        "signature": signature,
        "recipient": EMAIL_ADDRESS,
    }
    credentials = base64.b64encode(auth.encode()).decode()
    return client.post(
        "/hooks/anymail/mailgun/inbound/", fields, headers={"Authorization": f"Basic {credentials}"}
    )


def test_mail_forwarded_by_a_provider_takes_the_same_path_as_a_raw_one(client, writer):
    response = mailgun_post(client, mail("No internet", "Our internet is down since morning"))

    assert response.status_code == 200, response.content
    request = ServiceRequest.objects.get()
    assert (request.kind, request.channel) == ("emergency", "email")
    assert InboundMessage.objects.get().request == request


def test_a_provider_post_with_a_wrong_signature_or_no_secret_writes_nothing(client, writer):
    raw = mail("No internet", "down")

    forged = mailgun_post(client, raw, key="not-the-signing-key")
    no_auth = mailgun_post(client, raw, auth="dev:wrong")

    assert forged.status_code >= 400 and no_auth.status_code >= 400
    assert not ServiceRequest.objects.exists() and not InboundMessage.objects.exists()
