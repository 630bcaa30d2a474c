"""Collecting answers through each channel's own interface, on the survey engine
(`surveys.services`): a kiosk's taps, keypad digits in a call, an operator's phone survey, a
mystery shopper's checklist, and ratings imported from external terminals."""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import Role, Tenant, User
from core.errors import DomainError, IllegalTransition
from requests_app.models import Customer
from surveys.answers import value_clean
from surveys.models import (
    Audit,
    AuditForm,
    AuditMark,
    Call,
    CallAttempt,
    KioskDevice,
    OptOut,
    PhoneCampaign,
    Question,
    Response,
    ServicePoint,
    SurveyTemplate,
)
from surveys.selectors import questions_of
from surveys.services import (
    Ties,
    answers_write,
    response_finish,
    response_record,
    template_for,
)
from surveys.tokens import sampled, token_digest, token_new
from technicians.models import Visit

_CLIENT_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


# ---- Kiosk -----------------------------------------------------------------------------------


@transaction.atomic
def kiosk_register(*, service_point: ServicePoint, name: str) -> tuple[KioskDevice, str]:
    """A new terminal and its token, shown this once (only its digest is kept)."""
    token = token_new()
    device = KioskDevice.objects.create(
        tenant_id=service_point.tenant_id,
        service_point=service_point,
        name=name,
        token_hash=token_digest(token),
    )
    return device, token


@transaction.atomic
def response_from_kiosk(
    *, device: KioskDevice, client_id: object, raw: dict, language: str = ""
) -> tuple[Response, bool]:
    """A tap on a terminal. The terminal names each answer with its own id, and sends it again
    until it hears back (a network loss): the same id is the same response, counted once."""
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise DomainError(_("Each answer needs its client id."), field="client_id")
    external_id = f"{device.pk}:{client_id}"
    found = Response.objects.for_tenant(device.tenant_id).filter(
        channel=Response.Channel.KIOSK, external_id=external_id
    )
    existing = found.first()
    if existing is not None:
        return existing, False
    template = template_for(tenant_id=device.tenant_id, purpose=SurveyTemplate.Purpose.KIOSK)
    try:
        with transaction.atomic():
            response = response_record(
                tenant_id=device.tenant_id,
                template=template,
                channel=Response.Channel.KIOSK,
                raw=raw,
                ties=Ties(service_point_id=device.service_point_id, kiosk_id=device.pk),
                external_id=external_id,
                language=language if language in ("en", "ru", "kk") else "",
            )
    except IntegrityError:  # the same answer, sent twice at once
        return found.get(), False
    KioskDevice.objects.filter(pk=device.pk).update(last_seen_at=timezone.now())
    return response, True


# ---- IVR (keypad) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeypadStep:
    """What the call says next, and the question the next digits answer (None: done)."""

    say: str
    next_step: int | None = None
    digits: int = 1  # how many keys the next answer takes


def _keypad_questions(template: SurveyTemplate) -> list[Question]:
    return [q for q in questions_of(template) if q.kind != Question.Kind.TEXT]


def _keypad_prompt(question: Question, language: str) -> KeypadStep:
    text = question.text(language)
    if question.kind == Question.Kind.SOLVED:
        hint = _("Press 1 for yes, 2 for no.")
    elif question.kind == Question.Kind.NPS:
        hint = _("Enter a number from 0 to 10, then press the hash key.")
    else:
        low, high = Question.RANGES[question.kind]
        hint = _("Press a key from %(low)s to %(high)s.") % {"low": low, "high": high}
    digits = 2 if question.kind == Question.Kind.NPS else 1
    return KeypadStep(f"{text} {hint}", next_step=question.position, digits=digits)


def _keypad_value(question: Question, digits: str) -> int | None:
    digits = digits.strip().rstrip("#")
    if question.kind == Question.Kind.SOLVED:
        return {"1": 1, "2": 0}.get(digits)
    try:
        return value_clean(question, digits)
    except ValueError:
        return None


def _recent_visit(tenant: Tenant, phone: str) -> Visit | None:
    """The caller's last visit completed in the past week: what a keypad survey after a visit
    is about."""
    return (
        Visit.objects.for_tenant(tenant)
        .filter(
            status=Visit.Status.COMPLETED,
            request__customer__phone=phone,
            finished_at__gte=timezone.now() - timedelta(days=7),
        )
        .select_related("request__created_by")
        .order_by("-finished_at")
        .first()
    )


def _agent(tenant: Tenant, agent: str) -> User | None:
    """The operator the call was with, as the IVR names them (user name)."""
    if not agent:
        return None
    return User.objects.filter(tenant=tenant, role=Role.OPERATOR, username=agent[:150]).first()


@transaction.atomic
def keypad_survey_step(
    *, tenant: Tenant, phone: str, call_id: str, step: str, digits: str, agent: str = ""
) -> KeypadStep:
    """One keypad answer in a call (the tenant's scope is the caller's). `step` is the question
    the digits answer ("start" before the first); each call is one response, each question is
    answered once, so a provider's retry changes nothing. Digits out of range ask again."""
    template = template_for(tenant_id=tenant.pk, purpose=SurveyTemplate.Purpose.IVR)
    questions = _keypad_questions(template)
    language = tenant.language
    with override(language):
        if not questions:
            return KeypadStep(_("Thank you."))
        by_position = {q.position: q for q in questions}
        question = by_position.get(int(step)) if step.isdigit() else None
        if question is None:
            first = _keypad_prompt(questions[0], language)
            intro = _("%(tenant)s: please rate our service.") % {"tenant": tenant.name}
            return KeypadStep(f"{intro} {first.say}", first.next_step, first.digits)
        value = _keypad_value(question, digits)
        if value is None:
            again = _keypad_prompt(question, language)
            return KeypadStep(
                f"{_('That is not a valid answer.')} {again.say}", again.next_step, again.digits
            )
        response = _call_response(tenant, template, phone, call_id, agent)
        answers_write(response, questions, {question.pk: value})
        later = [q for q in questions if q.position > question.position]
        if later:
            return _keypad_prompt(later[0], language)
        if not response.complete:
            response_finish(response)
        return KeypadStep(_("Thank you for your answers. Goodbye."))


def _call_response(tenant, template, phone, call_id, agent) -> Response:
    external_id = f"call:{call_id}"
    found = Response.objects.for_tenant(tenant).filter(
        channel=Response.Channel.IVR, external_id=external_id
    )
    response = found.select_for_update().first()
    if response is not None:
        return response
    visit = _recent_visit(tenant, phone)
    ties = Ties.of_visit(visit)
    operator = _agent(tenant, agent) or ties.operator
    try:
        with transaction.atomic():
            return Response.objects.create(
                tenant=tenant,
                template=template,
                channel=Response.Channel.IVR,
                request=ties.request,
                visit=visit,
                technician_id=visit.technician_id if visit else None,
                operator=operator,
                external_id=external_id,
                language=tenant.language,
                complete=False,
                submitted_at=timezone.now(),
            )
    except IntegrityError:
        return found.select_for_update().get()


# ---- Outbound phone survey -------------------------------------------------------------------


@transaction.atomic
def campaign_create(
    *,
    tenant: Tenant,
    name: str,
    period_start,
    period_end,
    sample_percent: int,
    actor: User,
    max_attempts: int = 3,
    retry_minutes: int = 120,
) -> PhoneCampaign:
    """A call list: a sample of the visits completed in the period whose customer has a phone
    and did not opt out, each customer once."""
    if period_end < period_start:
        raise DomainError(_("The period ends before it starts."), field="period_end")
    if not 1 <= sample_percent <= 100:
        raise DomainError(_("The sample is a share from 1 to 100 %."), field="sample_percent")
    template = template_for(tenant_id=tenant.pk, purpose=SurveyTemplate.Purpose.PHONE)
    campaign = PhoneCampaign.objects.create(
        tenant=tenant,
        name=name[:120] or _("Phone survey"),
        template=template,
        period_start=period_start,
        period_end=period_end,
        sample_percent=sample_percent,
        max_attempts=max(1, max_attempts),
        retry_minutes=max(5, retry_minutes),
        created_by=actor,
    )
    zone = tenant.zone
    start = timezone.make_aware(datetime.combine(period_start, datetime.min.time()), zone)
    end = timezone.make_aware(
        datetime.combine(period_end + timedelta(days=1), datetime.min.time()), zone
    )
    stopped = set(
        OptOut.objects.for_tenant(tenant).exclude(phone="").values_list("phone", flat=True)
    )
    visits = (
        Visit.objects.for_tenant(tenant)
        .filter(status=Visit.Status.COMPLETED, finished_at__gte=start, finished_at__lt=end)
        .exclude(request__customer__phone="")
        .values_list("pk", "request__customer__phone")
        .order_by("finished_at", "pk")
    )
    now, seen, calls = timezone.now(), set(), []
    for visit_id, phone in visits:
        if phone in stopped or phone in seen or not sampled(sample_percent, campaign.pk, visit_id):
            continue
        seen.add(phone)
        calls.append(
            Call(tenant=tenant, campaign=campaign, visit_id=visit_id, phone=phone, next_call_at=now)
        )
    Call.objects.bulk_create(calls)
    return campaign


@transaction.atomic
def call_record(
    *,
    call: Call,
    operator: User,
    outcome: str,
    raw: dict | None = None,
    call_back_at: datetime | None = None,
) -> Call:
    """One dial and what came of it: answers (a response tied to the visit), no answer (tried
    again after the campaign's pause, until its attempts run out), refused, or call back at a
    time the customer gave. Every dial is a row in the call's history."""
    call = (
        Call.objects.select_for_update()
        .select_related("campaign", "visit__request")
        .get(pk=call.pk)
    )
    if call.status != Call.Status.PENDING:
        raise IllegalTransition(_("This call is finished."))
    if outcome not in CallAttempt.Outcome.values:
        raise DomainError(_("Choose what came of the call."), field="outcome")
    now = timezone.now()
    if outcome == CallAttempt.Outcome.CALL_BACK and (call_back_at is None or call_back_at <= now):
        raise DomainError(_("Give a time in the future to call back."), field="call_back_at")
    if outcome == CallAttempt.Outcome.ANSWERED:
        visit = Visit.objects.select_related("request__created_by").get(pk=call.visit_id)
        call.response = response_record(
            tenant_id=call.tenant_id,
            template=call.campaign.template,
            channel=Response.Channel.PHONE,
            raw=raw or {},
            ties=Ties.of_visit(visit),
            external_id=f"call-list:{call.pk}",
        )
        call.status = Call.Status.DONE
    elif outcome == CallAttempt.Outcome.REFUSED:
        call.status = Call.Status.REFUSED
    elif outcome == CallAttempt.Outcome.CALL_BACK:
        call.next_call_at = call_back_at
    elif call.attempts + 1 >= call.campaign.max_attempts:
        call.status = Call.Status.GAVE_UP
    else:
        call.next_call_at = now + timedelta(minutes=call.campaign.retry_minutes)
    call.attempts += 1
    call.save()
    CallAttempt.objects.create(
        tenant_id=call.tenant_id,
        call=call,
        operator=operator,
        outcome=outcome,
        call_back_at=call_back_at if outcome == CallAttempt.Outcome.CALL_BACK else None,
    )
    return call


# ---- Mystery shopping ------------------------------------------------------------------------


@transaction.atomic
def audit_record(
    *,
    form: AuditForm,
    auditor: User,
    passed: set[int],
    service_point: ServicePoint | None = None,
    operator: User | None = None,
    channel: str = "",
    note: str = "",
) -> Audit:
    """A filled checklist, scored as the weighted share of the items passed (0–100)."""
    items = list(form.items.all())
    if not items:
        raise DomainError(_("This form has no items."))
    target = {
        AuditForm.Target.SERVICE_POINT: service_point,
        AuditForm.Target.OPERATOR: operator,
        AuditForm.Target.CHANNEL: channel,
    }[form.target]
    if not target:
        raise DomainError(_("Choose what was audited."), field=form.target)
    for given, name in ((service_point, "service_point"), (operator, "operator")):
        if given is not None and given.tenant_id != form.tenant_id:
            raise DomainError(_("Choose what was audited."), field=name)
    total = sum(item.weight for item in items)
    earned = sum(item.weight for item in items if item.pk in passed)
    score = (Decimal(100 * earned) / Decimal(total)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    audit = Audit.objects.create(
        tenant_id=form.tenant_id,
        form=form,
        auditor=auditor,
        service_point=service_point,
        operator=operator,
        channel=channel[:16],
        score=score,
        note=note[:2000],
    )
    AuditMark.objects.bulk_create(
        AuditMark(tenant_id=form.tenant_id, audit=audit, item=item, passed=item.pk in passed)
        for item in items
    )
    return audit


# ---- Import from external terminals ----------------------------------------------------------

IMPORT_COLUMNS = ("terminal", "id", "service_point", "answered_at", "score")
IMPORT_LIMIT = 5000


@dataclass
class ImportReport:
    created: int = 0
    duplicates: int = 0
    errors: list[dict] = field(default_factory=list)  # {"line": n, "message": text}


def ratings_import(*, tenant: Tenant, rows: list[dict], first_line: int = 2) -> ImportReport:
    """Ratings (1–5) from external terminals, one row each: terminal, id (the terminal's own),
    service_point (its code), answered_at (ISO 8601; local time of the tenant without an
    offset), score. A row already imported is counted as a duplicate; a bad row is reported by
    its line and skipped, the others are kept."""
    report = ImportReport()
    if len(rows) > IMPORT_LIMIT:
        report.errors.append(
            {"line": 0, "message": _("At most %(limit)s rows at once.") % {"limit": IMPORT_LIMIT}}
        )
        return report
    points = dict(ServicePoint.objects.for_tenant(tenant).values_list("code", "pk"))
    for line, row in enumerate(rows, start=first_line):
        try:
            values = _import_row(row, points, tenant)
        except ValueError as error:
            report.errors.append({"line": line, "message": str(error)})
            continue
        try:
            with transaction.atomic():
                response = Response.objects.create(
                    tenant=tenant, channel=Response.Channel.IMPORT, **values
                )
                response_finish(response)
        except IntegrityError:
            report.duplicates += 1
            continue
        report.created += 1
    return report


def _import_row(row: object, points: dict, tenant: Tenant) -> dict:
    if not isinstance(row, dict):
        raise ValueError(_("The row is not a set of named columns."))
    text = {key: str(row.get(key) or "").strip() for key in IMPORT_COLUMNS}
    missing = [key for key in IMPORT_COLUMNS if not text[key]]
    if missing:
        raise ValueError(_("Missing: %(columns)s.") % {"columns": ", ".join(missing)})
    if any("\x00" in value or len(value) > 50 for value in text.values()):
        raise ValueError(_("A value is too long or not text."))
    point = points.get(text["service_point"])
    if point is None:
        raise ValueError(_("Unknown service point “%(code)s”.") % {"code": text["service_point"]})
    answered = (
        parse_datetime(text["answered_at"])
        if "T" in text["answered_at"] or " " in text["answered_at"]
        else None
    )
    if answered is None:
        raise ValueError(_("answered_at is not a date and time (2025-03-01T14:30)."))
    # Year 1 in a zone east of UTC is before year 1 in UTC: no database can store it.
    if answered.year < 2000:
        raise ValueError(_("answered_at is too long ago."))
    if timezone.is_naive(answered):
        answered = timezone.make_aware(answered, tenant.zone)
    if answered > timezone.now() + timedelta(minutes=5):
        raise ValueError(_("answered_at is in the future."))
    if not text["score"].isdigit() or not 1 <= int(text["score"]) <= 5:
        raise ValueError(_("score must be a whole number from 1 to 5."))
    return {
        "service_point_id": point,
        "external_id": f"{text['terminal']}:{text['id']}",
        "csat": int(text["score"]),
        "submitted_at": answered,
    }


def customer_of_call(call: Call) -> Customer:
    return call.visit.request.customer
