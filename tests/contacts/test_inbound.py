"""Every inbound message is part of a contact: SMS, e-mail, a fax (an e-mail with a PDF) and an
IVR call-back request; what the automatic path settled is recorded as done."""

from email.message import EmailMessage

import pytest

from contacts.models import Contact
from intake.models import InboundMessage
from requests_app.models import ServiceRequest
from tests.intake.helpers import (
    EMAIL_ADDRESS,
    EMAIL_SECRET,
    IVR_NUMBER,
    IVR_SECRET,
    SMS_NUMBER,
    SMS_SECRET,
    form_post,
    inbound_setup,
    signed_post,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def inbound(settings, tenant):
    inbound_setup(settings, tenant)


def sms(client, sid, body, sender="+77011112233"):
    fields = {"MessageSid": sid, "From": sender, "To": SMS_NUMBER, "Body": body}
    return form_post(client, "/hooks/sms/", fields, SMS_SECRET)


def test_an_sms_nobody_could_act_on_waits_for_an_operator_and_the_next_one_joins_it(client):
    sms(client, "SM1", "Hello, my router blinks red")
    sms(client, "SM2", "Are you there?")

    contact = Contact.objects.get()
    assert (contact.channel, contact.status, contact.sender) == ("sms", "new", "+77011112233")
    assert list(contact.messages.values_list("body", flat=True)) == [
        "Hello, my router blinks red",
        "Are you there?",
    ]


def test_an_sms_that_became_a_request_is_a_contact_already_done(client, customer):
    sms(client, "SM1", "No internet", sender=customer.phone)

    contact = Contact.objects.get()
    assert contact.status == Contact.Status.DONE
    assert contact.request == ServiceRequest.objects.get()
    assert contact.customer == customer


def test_a_fax_is_an_email_with_a_pdf_and_goes_to_an_operator_without_a_request(client):
    message = EmailMessage()
    message["From"] = "fax@gateway.example"
    message["To"] = EMAIL_ADDRESS
    message["Subject"] = "Fax from +77272223344"
    message["Message-ID"] = "<fax1@gateway.example>"
    message.set_content("1 page")
    message.add_attachment(
        b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="f.pdf"
    )
    raw = message.as_bytes()

    response = signed_post(
        client, "/hooks/email/", raw, EMAIL_SECRET, content_type="message/rfc822"
    )

    assert response.json()["outcome"] == "operator"
    contact = Contact.objects.get()
    assert (contact.channel, contact.status) == ("fax", "new")
    first = contact.messages.get()
    assert first.attachment_type == "application/pdf"
    assert not ServiceRequest.objects.exists()


def test_an_ivr_call_back_request_puts_the_caller_in_the_queue_once(client):
    fields = {"CallSid": "CA9", "From": "+77019998877", "To": IVR_NUMBER}

    first = form_post(client, "/hooks/ivr/callback/", fields, IVR_SECRET)
    again = form_post(client, "/hooks/ivr/callback/", fields, IVR_SECRET)

    assert first.status_code == 200 and "call you back" in first.content.decode()
    assert again.status_code == 409
    contact = Contact.objects.get()
    assert (contact.channel, contact.status, contact.sender) == (
        "ivr_callback",
        "new",
        "+77019998877",
    )
    assert InboundMessage.objects.get().outcome == "operator"


def test_an_unsigned_call_back_request_leaves_nothing(client):
    fields = {"CallSid": "CA9", "From": "+77019998877", "To": IVR_NUMBER}

    response = form_post(client, "/hooks/ivr/callback/", fields, "wrong")

    assert response.status_code in (401, 403)
    assert not Contact.objects.exists()
