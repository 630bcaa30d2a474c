"""Every other channel at its HTTP interface: the kiosk, keypad digits and STOP by SMS through
the signed webhooks, the operator's phone script, the mystery shopper's form, the import."""

import io
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from surveys import collection
from surveys.models import (
    AuditForm,
    AuditItem,
    CallAttempt,
    FollowUpCase,
    OptOut,
    Response,
    ServicePoint,
)
from tests.factories import CustomerFactory, UserFactory
from tests.intake.helpers import (
    IVR_NUMBER,
    IVR_SECRET,
    SMS_NUMBER,
    SMS_SECRET,
    form_post,
    inbound_setup,
)
from tests.surveys.conftest import completed_visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def point(tenant):
    return ServicePoint.objects.create(
        tenant=tenant, code="abay", name="Abay office", region="Almaly"
    )


@pytest.fixture
def kiosk(point):
    return collection.kiosk_register(service_point=point, name="Hall terminal")


def tap(token, value, client_id=None):
    body = {"client_id": client_id or str(uuid.uuid4()), "answers": {"q1": value}}
    return Client().post(f"/k/{token}/answer/", body, content_type="application/json")


# ---- Kiosk -----------------------------------------------------------------------------------


def test_the_kiosk_page_opens_for_a_registered_device_only(kiosk, settings):
    settings.RATELIMIT_ENABLE = False
    device, token = kiosk
    page = Client().get(f"/k/{token}/")
    assert page.status_code == 200 and page["Referrer-Policy"] == "no-referrer"
    assert 'data-testid="kiosk-5"' in page.content.decode()
    assert Client().get(f"/k/{'x' * 32}/").status_code == 404
    assert token not in str(type(device).objects.values().get())


def test_a_kiosk_tap_sent_twice_is_one_response_tied_to_the_service_point(kiosk, settings):
    settings.RATELIMIT_ENABLE = False
    device, token = kiosk
    client_id = str(uuid.uuid4())

    first, retry = tap(token, 4, client_id), tap(token, 4, client_id)

    assert (first.status_code, retry.status_code) == (201, 200)
    response = Response.objects.get()
    assert (response.channel, response.csat, response.service_point, response.kiosk) == (
        "kiosk",
        4,
        device.service_point,
        device,
    )


@pytest.mark.parametrize("value", [0, 6, "five", None, 2.5])
def test_a_kiosk_answer_out_of_range_is_a_400_with_the_field(kiosk, settings, value):
    settings.RATELIMIT_ENABLE = False
    _device, token = kiosk
    answer = tap(token, value)
    assert answer.status_code == 400 and "q1" in answer.json()["errors"]
    assert not Response.objects.exists()


def test_a_kiosk_answer_without_its_id_or_json_is_a_400(kiosk, settings):
    settings.RATELIMIT_ENABLE = False
    _device, token = kiosk
    no_id = Client().post(
        f"/k/{token}/answer/", {"answers": {"q1": 3}}, content_type="application/json"
    )
    garbage = Client().post(f"/k/{token}/answer/", b"\xff[", content_type="application/json")
    assert no_id.status_code == 400 and garbage.status_code == 400


def test_a_kiosk_low_score_opens_no_case_as_nobody_can_be_called_back(kiosk, settings):
    settings.RATELIMIT_ENABLE = False
    assert tap(kiosk[1], 1).status_code == 201
    assert not FollowUpCase.objects.exists()


def test_the_kiosk_is_rate_limited(kiosk, settings):
    from django.core.cache import caches

    caches["ratelimit"].clear()
    settings.RATELIMIT_ENABLE, settings.KIOSK_RATE = True, "2/m"
    codes = [tap(kiosk[1], 5).status_code for _ in range(4)]
    assert codes[:2] == [201, 201] and codes[-1] == 429


# ---- IVR and SMS (signed webhooks) -----------------------------------------------------------


@pytest.fixture
def hooks(settings, tenant):
    inbound_setup(settings, tenant)


def keypad(call, step, digits="", caller="+77011234567"):
    fields = {"CallSid": call, "From": caller, "To": IVR_NUMBER, "Digits": digits, "Survey": step}
    return form_post(Client(), "/hooks/ivr/", fields, IVR_SECRET)


def test_keypad_digits_answer_the_ivr_survey_about_the_callers_last_visit(hooks, tenant, operator):
    visit = completed_visit(tenant, created_by=operator)

    intro = keypad("CA1", "start")
    wrong = keypad("CA1", "1", "9")
    first = keypad("CA1", "1", "2")
    retried = keypad("CA1", "1", "5")  # the provider sent it again: the first answer stands
    last = keypad("CA1", "2", "2")

    assert intro.status_code == 200 and 'action="/hooks/ivr/?Survey=1"' in intro.content.decode()
    assert "not a valid answer" in wrong.content.decode()
    assert "Survey=2" in first.content.decode() and "Survey=2" in retried.content.decode()
    assert "Thank you" in last.content.decode() and "<Gather" not in last.content.decode()
    response = Response.objects.get()
    assert (response.channel, response.csat, response.solved, response.complete) == (
        "ivr",
        2,
        False,
        True,
    )
    assert response.visit == visit and response.operator == operator
    assert FollowUpCase.objects.get().request == visit.request


def test_an_unsigned_keypad_answer_is_refused(hooks, tenant):
    answer = Client().post(
        "/hooks/ivr/",
        {"CallSid": "CA9", "From": "+77011234567", "To": IVR_NUMBER, "Digits": "1", "Survey": "1"},
    )
    assert answer.status_code == 403 and not Response.objects.exists()


@pytest.mark.parametrize("word", ["STOP", "стоп", "Stop."])
def test_an_sms_stop_opts_the_customer_out_and_creates_no_request(hooks, tenant, word):
    customer = CustomerFactory(tenant=tenant, phone="+77017778899")
    fields = {"MessageSid": f"SM-{word}", "From": customer.phone, "To": SMS_NUMBER, "Body": word}
    answer = form_post(Client(), "/hooks/sms/", fields, SMS_SECRET)
    assert answer.status_code == 200 and "no more surveys" in answer.content.decode()
    assert OptOut.objects.filter(tenant=tenant, phone=customer.phone, source="sms").exists()
    assert not customer.requests.exists()


# ---- Phone survey ----------------------------------------------------------------------------


@pytest.fixture
def campaign(tenant, manager):
    for n in range(4):
        completed_visit(tenant, customer=CustomerFactory(tenant=tenant, phone=f"+7701000000{n}"))
    today = timezone.localdate()
    return collection.campaign_create(
        tenant=tenant,
        name="March",
        period_start=today - timedelta(days=1),
        period_end=today,
        sample_percent=100,
        actor=manager,
        max_attempts=2,
    )


def test_a_campaign_samples_completed_visits_into_a_call_list(campaign):
    assert campaign.calls.count() == 4


def test_an_operator_enters_the_answers_from_the_script_page(campaign, operator):
    call = campaign.calls.first()
    client = Client()
    client.force_login(operator)

    assert client.get(f"/surveys/calls/{call.pk}/").status_code == 200
    bad = client.post(f"/surveys/calls/{call.pk}/", {"outcome": "answered", "q1": "9"})
    good = client.post(
        f"/surveys/calls/{call.pk}/", {"outcome": "answered", "q1": "4", "q2": "1", "q3": "9"}
    )

    assert bad.status_code == 400 and good.status_code == 302
    call.refresh_from_db()
    assert call.status == "done" and call.response.channel == "phone" and call.response.csat == 4
    assert list(call.history.values_list("outcome", flat=True)) == ["answered"]


def test_no_answer_is_retried_later_until_the_attempts_run_out(campaign, operator):
    call = campaign.calls.first()
    collection.call_record(call=call, operator=operator, outcome="no_answer")
    call.refresh_from_db()
    assert call.status == "pending" and call.next_call_at > timezone.now() + timedelta(minutes=100)
    collection.call_record(call=call, operator=operator, outcome="no_answer")
    call.refresh_from_db()
    assert call.status == "gave_up" and call.attempts == 2


def test_call_back_needs_a_future_time_and_refused_ends_the_call(campaign, operator):
    first, second = campaign.calls.all()[:2]
    client = Client()
    client.force_login(operator)
    past = client.post(
        f"/surveys/calls/{first.pk}/", {"outcome": "call_back", "call_back_at": "2020-01-01T10:00"}
    )
    later = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    ok = client.post(f"/surveys/calls/{first.pk}/", {"outcome": "call_back", "call_back_at": later})
    client.post(f"/surveys/calls/{second.pk}/", {"outcome": "refused"})
    assert past.status_code == 400 and ok.status_code == 302
    first.refresh_from_db(), second.refresh_from_db()
    assert first.next_call_at > timezone.now() and second.status == "refused"
    assert CallAttempt.objects.filter(call=first, outcome="call_back").count() == 1


def test_an_operator_of_another_tenant_cannot_open_a_call(campaign, other_tenant):
    stranger = UserFactory(username="beta-op", tenant=other_tenant, role=Role.OPERATOR)
    client = Client()
    client.force_login(stranger)
    assert client.get(f"/surveys/calls/{campaign.calls.first().pk}/").status_code == 404


# ---- Mystery shopping ------------------------------------------------------------------------


def test_an_auditor_fills_a_weighted_checklist_and_gets_a_score(tenant, manager, point):
    form = AuditForm.objects.create(tenant=tenant, name="Office visit", target="service_point")
    items = [
        AuditItem.objects.create(
            tenant=tenant,
            form=form,
            position=n,
            text_en=f"Item {n}",
            text_ru="п",
            text_kk="т",
            weight=w,
        )
        for n, w in enumerate((3, 1), start=1)
    ]
    client = Client()
    client.force_login(manager)

    answer = client.post(
        f"/surveys/audits/{form.pk}/", {"service_point": point.pk, "passed": [items[0].pk]}
    )

    assert answer.status_code == 302
    audit = form.audits.get()
    assert float(audit.score) == 75.0 and audit.service_point == point and audit.auditor == manager


def test_an_operator_may_not_audit(tenant, operator, point):
    form = AuditForm.objects.create(tenant=tenant, name="Office visit", target="service_point")
    client = Client()
    client.force_login(operator)
    assert client.get(f"/surveys/audits/{form.pk}/").status_code == 403


# ---- Import ----------------------------------------------------------------------------------

CSV = (
    "terminal,id,service_point,answered_at,score\n"
    "T1,1,abay,2025-03-01T10:00,5\n"
    "T1,2,abay,2025-03-01T10:05,9\n"
    "T1,3,nowhere,2025-03-01T10:06,4\n"
    "T1,4,abay,yesterday,4\n"
    "T1,1,abay,2025-03-01T10:00,5\n"
)


def test_a_csv_upload_imports_good_rows_and_reports_bad_ones_by_line(manager, point):
    client = Client()
    client.force_login(manager)
    upload = io.BytesIO(CSV.encode())
    upload.name = "ratings.csv"

    page = client.post("/surveys/import/", {"file": upload})

    text = page.content.decode()
    assert page.status_code == 200
    assert "Line 3:" in text and "Line 4:" in text and "Line 5:" in text
    assert Response.objects.filter(channel="import", service_point=point).count() == 1


def test_a_broken_file_is_a_message_not_a_500(manager, point):
    client = Client()
    client.force_login(manager)
    upload = io.BytesIO(b"\xff\xfe\x00bad")
    upload.name = "x.csv"
    assert client.post("/surveys/import/", {"file": upload}).status_code == 400


def test_the_import_api_reports_each_bad_row_and_keeps_the_others(api, manager, point):
    rows = [
        {
            "terminal": "T9",
            "id": "1",
            "service_point": "abay",
            "answered_at": "2025-03-01T10:00:00+05:00",
            "score": 2,
        },
        {
            "terminal": "T9",
            "id": "2",
            "service_point": "abay",
            "answered_at": "2025-03-01T10:00",
            "score": 0,
        },
        {"terminal": "T9"},
    ]
    answer = api(manager).post("/api/v1/surveys/imports/", {"rows": rows}, format="json")
    again = api(manager).post("/api/v1/surveys/imports/", {"rows": rows[:1]}, format="json")
    not_rows = api(manager).post("/api/v1/surveys/imports/", {"rows": ["x"]}, format="json")

    assert answer.status_code == 200
    body = answer.json()
    assert body["created"] == 1 and [e["line"] for e in body["errors"]] == [2, 3]
    assert "score" in body["errors"][0]["message"] and "Missing" in body["errors"][1]["message"]
    assert again.json() == {"created": 0, "duplicates": 1, "errors": []}
    assert not_rows.status_code == 400 and "rows" in not_rows.json()
    assert not FollowUpCase.objects.exists()  # a terminal's rating names nobody to call back


@pytest.mark.parametrize("answered_at", ["0001-01-01T00:00", "1999-12-31T23:59:59+14:00"])
def test_an_imported_rating_from_before_any_terminal_is_a_bad_row_not_a_500(
    api, manager, point, answered_at
):
    row = {"terminal": "T1", "id": "1", "service_point": "abay", "answered_at": answered_at}

    answer = api(manager).post(
        "/api/v1/surveys/imports/", {"rows": [{**row, "score": 4}]}, format="json"
    )

    assert answer.status_code == 200
    assert answer.json()["errors"] == [{"line": 1, "message": "answered_at is too long ago."}]
