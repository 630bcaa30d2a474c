"""The IVR webhook: keypad choices report an outage, or confirm or cancel the next visit."""

import pytest

from intake.models import InboundMessage
from notifications.models import Notification
from requests_app.models import ServiceRequest, StatusChange
from technicians.models import Visit
from tests.intake.helpers import IVR_NUMBER, IVR_SECRET, form_post, inbound_setup, visit_in

pytestmark = pytest.mark.django_db

URL = "/hooks/ivr/"


@pytest.fixture(autouse=True)
def inbound(settings, tenant):
    inbound_setup(settings, tenant)


@pytest.fixture
def upcoming(tenant, customer, technician):
    return visit_in(tenant, customer, technician, hours=6)


def call(client, caller, digits, *, sid="CA0001", to=IVR_NUMBER, **kwargs):
    fields = {"CallSid": sid, "From": caller, "To": to}
    if digits is not None:
        fields["Digits"] = digits
    return form_post(client, URL, fields, IVR_SECRET, **kwargs)


def said(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    text = response.content.decode()
    assert "<Say>" in text
    return text


def test_one_reports_an_outage_at_the_callers_registered_address(client, customer):
    response = call(client, customer.phone, "1")

    request = ServiceRequest.objects.get()
    assert request.number in said(response)
    assert request.kind == ServiceRequest.Kind.EMERGENCY
    assert request.category == ServiceRequest.Category.OUTAGE
    assert request.channel == ServiceRequest.Channel.IVR
    assert (request.lat, request.lon, request.customer) == (customer.lat, customer.lon, customer)
    assert StatusChange.objects.filter(request=request, to_status="new").exists()
    message = InboundMessage.objects.get()
    assert (message.channel, message.message_id, message.outcome) == ("ivr", "CA0001", "created")


def test_an_unknown_caller_cannot_report_an_outage_by_keypad(client):
    response = call(client, "+77005554433", "1")

    assert "registered address" in said(response)
    assert not ServiceRequest.objects.exists()
    assert InboundMessage.objects.get().outcome == "referred"


def test_two_confirms_the_next_visit(client, customer, upcoming):
    response = call(client, customer.phone, "2")

    assert "is confirmed" in said(response)
    upcoming.refresh_from_db()
    assert upcoming.customer_confirmed_at is not None
    assert InboundMessage.objects.get().request == upcoming


def test_three_cancels_the_next_visit_and_tells_the_customer(client, customer, upcoming):
    response = call(client, customer.phone, "3")

    assert "is cancelled" in said(response)
    upcoming.refresh_from_db()
    assert upcoming.status == ServiceRequest.Status.CANCELLED
    assert StatusChange.objects.filter(request=upcoming, to_status="cancelled").count() == 1
    assert Visit.objects.get(request=upcoming).status == Visit.Status.CANCELLED
    assert Notification.objects.filter(request=upcoming, kind="request_cancelled").count() == 1
    assert InboundMessage.objects.get().outcome == "cancelled"


def test_three_after_the_cut_off_leaves_the_visit_booked(client, customer, tenant, technician):
    soon = visit_in(tenant, customer, technician, hours=1)

    response = call(client, customer.phone, "3")

    assert "too late" in said(response)
    soon.refresh_from_db()
    assert soon.status == ServiceRequest.Status.ASSIGNED
    assert InboundMessage.objects.get().outcome == "too_late"


def test_a_choice_without_an_upcoming_visit_says_so(client, customer):
    response = call(client, customer.phone, "2")

    assert "no upcoming visit" in said(response)
    assert InboundMessage.objects.get().outcome == "no_visit"


def test_a_call_without_a_choice_hears_the_menu_and_may_still_choose(client, customer):
    menu = call(client, customer.phone, None)

    assert '<Gather numDigits="1"><Say>' in said(menu)
    assert not InboundMessage.objects.exists()
    assert call(client, customer.phone, "9").status_code == 200
    assert not InboundMessage.objects.exists()
    assert ServiceRequest.objects.count() == 0
    call(client, customer.phone, "1")
    assert ServiceRequest.objects.count() == 1


def test_a_replayed_call_gets_409_and_does_not_cancel_twice(client, customer, upcoming):
    call(client, customer.phone, "3")

    response = call(client, customer.phone, "3")

    assert response.status_code == 409
    assert StatusChange.objects.filter(request=upcoming, to_status="cancelled").count() == 1
    assert InboundMessage.objects.count() == 1


def test_a_missing_signature_gets_403_and_writes_nothing(client, customer, upcoming):
    response = call(client, customer.phone, "3", signature="")

    assert response.status_code == 403
    upcoming.refresh_from_db()
    assert upcoming.status == ServiceRequest.Status.ASSIGNED
    assert not InboundMessage.objects.exists()


def test_a_number_of_no_client_gets_404(client, customer):
    response = call(client, customer.phone, "1", to="+77270000001")

    assert response.status_code == 404
    assert not ServiceRequest.objects.exists()


def test_a_call_without_a_caller_gets_400(client):
    response = form_post(client, URL, {"CallSid": "CA1", "To": IVR_NUMBER}, IVR_SECRET)

    assert response.status_code == 400
    assert not InboundMessage.objects.exists()
