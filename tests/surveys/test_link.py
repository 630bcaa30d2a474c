"""The link after a visit: sent through the outbox by the rules, single use, private, in the
customer's language, never a 500."""

import hashlib
import io
import logging
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from core import followups
from core.observability import RedactFilter
from notifications.models import Notification
from surveys import services, tasks
from surveys.models import Invitation, OptOut, Response
from technicians.models import Visit
from technicians.services import visit_transition
from tests.factories import CustomerFactory
from tests.surveys.conftest import BAD, GOOD, completed_visit, link_token

pytestmark = pytest.mark.django_db


def url(token: str) -> str:
    return f"/s/{token}/"


def test_completing_a_visit_asks_for_the_invitation_after_commit_by_task_name(tenant):
    visit = completed_visit(tenant)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.ON_SITE)
    visit.request.status = "on_site"
    visit.request.save(update_fields=["status"])
    with mock.patch.object(followups, "enqueue_on_commit") as enqueue:
        visit_transition(visit=visit, to=Visit.Status.COMPLETED)
    enqueue.assert_any_call(followups.SURVEY_INVITE, visit_id=visit.pk)


def test_the_task_sends_one_sms_with_a_link_whose_token_is_stored_only_as_a_hash(
    tenant, rules, no_delivery
):
    visit = completed_visit(tenant)

    assert tasks.invite_after_visit(visit_id=visit.pk) == "sent"
    assert tasks.invite_after_visit(visit_id=visit.pk) == "sent"  # a second run: no new message

    invitation = Invitation.objects.get()
    message = Notification.objects.get(kind="survey_invitation")
    token = link_token(invitation)
    assert message.channel == "sms" and message.recipient == visit.request.customer.phone
    assert len(token) >= 32  # 192 bits in URL-safe base64
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert token not in str(stored)
    assert invitation.expires_at - invitation.sent_at == timedelta(days=rules.link_days)


def test_a_customer_asked_recently_is_not_asked_again(tenant, rules, no_delivery):
    customer = CustomerFactory(tenant=tenant, phone="+77019990000")
    first = services.invitation_after_visit(visit_id=completed_visit(tenant, customer=customer).pk)
    second = services.invitation_after_visit(visit_id=completed_visit(tenant, customer=customer).pk)

    assert (first.status, second.status) == ("sent", "skipped")
    assert second.skip_reason == "asked_recently"
    assert Notification.objects.filter(kind="survey_invitation").count() == 1


def test_a_sampling_rate_of_zero_asks_nobody(tenant, rules, no_delivery):
    rules.sampling_percent = 0
    rules.save()

    invitation = services.invitation_after_visit(visit_id=completed_visit(tenant).pk)

    assert invitation.skip_reason == "not_sampled"
    assert not Notification.objects.exists()


def test_in_quiet_hours_the_invitation_waits_and_beat_sends_it_when_they_end(
    tenant, rules, no_delivery
):
    rules.quiet_start_hour, rules.quiet_end_hour = 21, 9
    rules.save()
    night = datetime(2025, 3, 3, 23, 30, tzinfo=tenant.zone)
    visit = completed_visit(tenant)

    invitation = services.invitation_after_visit(visit_id=visit.pk, now=night)

    assert invitation.status == "scheduled"
    assert invitation.send_after == datetime(2025, 3, 4, 9, 0, tzinfo=tenant.zone)
    assert not Notification.objects.exists()
    early = night + timedelta(hours=2)
    assert services.invitation_send_due(invitation_id=invitation.pk, now=early) == "deferred"
    morning = datetime(2025, 3, 4, 9, 1, tzinfo=tenant.zone)
    assert services.invitations_due(now=morning) == [invitation.pk]
    assert services.invitation_send_due(invitation_id=invitation.pk, now=morning) == "sent"
    assert services.invitation_send_due(invitation_id=invitation.pk, now=morning) == "skipped"
    assert Notification.objects.filter(kind="survey_invitation").count() == 1


def test_quiet_hours_are_read_in_the_tenants_time_zone(tenant, rules):
    rules.quiet_start_hour, rules.quiet_end_hour = 21, 9
    # 16:00 UTC is 21:00 or later in Almaty (UTC+5/+6): quiet there.
    at = datetime(2025, 3, 3, 16, 30, tzinfo=UTC)
    assert services.quiet_until(at, tenant, rules) is not None
    tenant.time_zone = "Europe/London"
    assert services.quiet_until(at, tenant, rules) is None


def test_a_customer_who_replied_stop_is_not_asked(tenant, rules, no_delivery):
    customer = CustomerFactory(tenant=tenant, phone="+77015550000")
    services.survey_opt_out(tenant_id=tenant.pk, phone=customer.phone, source="sms")

    invitation = services.invitation_after_visit(
        visit_id=completed_visit(tenant, customer=customer).pk
    )

    assert invitation.skip_reason == "opted_out"


def test_the_page_shows_the_questions_in_the_customers_language_without_a_referrer(
    sent_link, tenant
):
    _invitation, token = sent_link
    tenant.language = "ru"
    Invitation.objects.update(language="ru")

    page = Client().get(url(token))

    assert page.status_code == 200
    assert page["Referrer-Policy"] == "no-referrer"
    assert page["Cache-Control"] == "no-store"
    assert "Насколько вы довольны обслуживанием?" in page.content.decode()


def test_answers_are_stored_once_and_the_link_then_answers_410(sent_link):
    invitation, token = sent_link
    client = Client()

    done = client.post(url(token), GOOD)
    again = client.post(url(token), GOOD)
    reopened = client.get(url(token))

    assert done.status_code == 200 and again.status_code == 410 and reopened.status_code == 410
    response = Response.objects.get()
    assert (response.csat, response.nps, response.ces, response.solved) == (5, 10, 6, True)
    assert response.invitation == invitation and response.visit == invitation.visit
    assert response.technician_id == invitation.visit.technician_id
    assert response.answers.count() == 5
    invitation.refresh_from_db()
    assert invitation.status == "answered"


@pytest.mark.parametrize(
    ("field", "value"),
    [("q1", "7"), ("q1", "0"), ("q3", "11"), ("q3", "-1"), ("q2", "yes"), ("q4", "1.5")],
)
def test_an_answer_out_of_range_is_a_field_message_and_nothing_is_stored(sent_link, field, value):
    _invitation, token = sent_link

    page = Client().post(url(token), {**GOOD, field: value})

    assert page.status_code == 400
    assert "Choose a whole number" in page.content.decode()
    assert not Response.objects.exists()
    assert Invitation.objects.get().status == "sent"


def test_a_missing_required_answer_is_a_field_message(sent_link):
    _invitation, token = sent_link
    page = Client().post(url(token), {"q5": "just text"})
    assert page.status_code == 400 and "Please answer this question." in page.content.decode()


@pytest.mark.parametrize("token", ["x" * 32, "short", "a" * 300, "%00%00" * 8])
def test_a_tampered_or_unknown_token_is_404(sent_link, token):
    assert Client().get(url(token)).status_code == 404


def test_a_changed_character_in_a_real_token_is_404(sent_link):
    _invitation, token = sent_link
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert Client().get(url(tampered)).status_code == 404
    assert Client().post(url(tampered), GOOD).status_code == 404


def test_an_expired_link_is_410(sent_link):
    invitation, token = sent_link
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    assert Client().get(url(token)).status_code == 410
    assert Client().post(url(token), GOOD).status_code == 410
    assert not Response.objects.exists()


def test_the_link_opts_the_customer_out_of_further_surveys(sent_link, tenant):
    invitation, token = sent_link

    page = Client().post(url(token), {"action": "opt_out"})

    assert page.status_code == 200
    assert OptOut.objects.filter(
        tenant=tenant, phone=invitation.customer.phone, source="link"
    ).exists()


def test_the_link_is_rate_limited(sent_link, settings):
    settings.RATELIMIT_ENABLE = True
    settings.SURVEY_RATE = "3/m"
    from django.core.cache import caches

    caches["ratelimit"].clear()
    _invitation, token = sent_link
    client = Client(REMOTE_ADDR="10.9.8.7")
    codes = [client.get(url(token)).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[-1] == 429


def test_no_token_reaches_a_log_line(sent_link):
    _invitation, token = sent_link
    (handler,) = [
        handler
        for handler in logging.getLogger("django").handlers
        if any(isinstance(f, RedactFilter) for f in handler.filters)
    ]
    written = io.StringIO()
    stream = handler.setStream(written)
    try:
        Client().get(url(token[:-2] + "zz"))  # logged as "Not Found: /s/…/"
    finally:
        handler.setStream(stream)
    assert "Not Found: /s/…/" in written.getvalue()
    assert token[:-2] not in written.getvalue()


def test_the_access_log_names_no_key():
    from gunicorn.config import Config

    from config.gunicorn import RedactingLogger

    atoms = RedactingLogger(Config()).atoms(
        mock.Mock(status="200 OK", sent=10, headers=[]),
        mock.Mock(
            method="GET", path="/s/SECRETtokenSECRETtoken/", query="", version=(1, 1), headers=[]
        ),
        {
            "REQUEST_METHOD": "GET",
            "RAW_URI": "/s/SECRETtokenSECRETtoken/",
            "PATH_INFO": "/s/SECRETtokenSECRETtoken/",
            "SERVER_PROTOCOL": "HTTP/1.1",
        },
        timedelta(seconds=1),
    )
    assert "SECRET" not in atoms["r"] + atoms["U"]


def test_the_page_speaks_the_language_the_customer_picks(sent_link):
    _invitation, token = sent_link
    page = Client().get(url(token) + "?lang=kk")
    assert "Қызмет көрсетуге қаншалықты ризасыз?" in page.content.decode()


def test_a_low_score_on_the_link_writes_the_answer_into_the_requests_history(sent_link):
    invitation, token = sent_link
    Client().post(url(token), BAD)
    note = invitation.request.status_changes.order_by("-pk").first()
    assert note.from_status == note.to_status == "completed"
    assert "satisfaction 1 of 5" in note.reason and "not solved" in note.reason
