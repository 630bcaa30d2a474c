"""Writes of the survey engine: templates, invitations after visits (with the over-survey,
sampling, quiet-hours and opt-out rules), responses from every channel, and the loop a low
score opens. Channel-specific collection (kiosks, keypad, phone campaigns, audits, imports)
lives in `surveys.collection`, on these."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import Role, Tenant, User
from core.errors import DomainError, IllegalTransition
from core.tenancy import scope_for_transaction
from notifications.services import notification_enqueue
from requests_app.models import Customer, ServiceRequest
from requests_app.services import customer_message, request_noted, request_transition
from requests_app.states import Status as RequestStatus
from surveys import defaults
from surveys.answers import answers_clean
from surveys.models import (
    Answer,
    FollowUpCase,
    Invitation,
    OptOut,
    Question,
    Response,
    SurveyTemplate,
)
from surveys.selectors import (
    invitation_id_for_token,
    invitation_usable,
    questions_of,
    survey_settings_for,
    template_active,
)
from surveys.tokens import sampled, token_digest, token_new
from technicians.models import Visit

log = logging.getLogger(__name__)

STOP_WORDS = ("stop", "стоп", "тоқта", "unsubscribe", "отписаться")


class AnswersInvalid(DomainError):
    """Answers out of range or missing: `errors` holds a message per field."""

    code = "invalid_answers"

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__(_("Please check your answers."), extra={"errors": errors})


# ---- Templates -------------------------------------------------------------------------------


@transaction.atomic
def survey_templates_ensure(*, tenant_id: int) -> None:
    """Give a tenant the default questionnaire of every purpose it has none of."""
    have = set(
        SurveyTemplate.objects.for_tenant(tenant_id)
        .filter(active=True)
        .values_list("purpose", flat=True)
    )
    for purpose, (name, questions) in defaults.TEMPLATES.items():
        if purpose in have:
            continue
        template = SurveyTemplate.objects.create(tenant_id=tenant_id, purpose=purpose, name=name)
        Question.objects.bulk_create(
            Question(
                tenant_id=tenant_id,
                template=template,
                position=position,
                kind=kind,
                text_en=en,
                text_ru=ru,
                text_kk=kk,
                required=kind != Question.Kind.TEXT,
            )
            for position, (kind, en, ru, kk) in enumerate(questions, start=1)
        )


@transaction.atomic
def survey_template_new_version(*, template: SurveyTemplate) -> SurveyTemplate:
    """Copy a template's questions into the next version, which becomes the active one (the old
    version keeps its answers and questions untouched)."""
    current = SurveyTemplate.objects.select_for_update().get(pk=template.pk)
    latest = (
        SurveyTemplate.objects.for_tenant(current.tenant_id)
        .filter(purpose=current.purpose)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    SurveyTemplate.objects.for_tenant(current.tenant_id).filter(
        purpose=current.purpose, active=True
    ).update(active=False)
    new = SurveyTemplate.objects.create(
        tenant_id=current.tenant_id,
        purpose=current.purpose,
        name=current.name,
        version=latest + 1,
    )
    Question.objects.bulk_create(
        Question(
            tenant_id=q.tenant_id,
            template=new,
            position=q.position,
            kind=q.kind,
            text_en=q.text_en,
            text_ru=q.text_ru,
            text_kk=q.text_kk,
            required=q.required,
        )
        for q in current.questions.all()
    )
    return new


def template_for(*, tenant_id: int, purpose: str) -> SurveyTemplate:
    template = template_active(tenant_id=tenant_id, purpose=purpose)
    if template is None:
        survey_templates_ensure(tenant_id=tenant_id)
        template = template_active(tenant_id=tenant_id, purpose=purpose)
    return template


# ---- Invitations -----------------------------------------------------------------------------


def quiet_until(now: datetime, tenant: Tenant, rules) -> datetime | None:
    """When the tenant's quiet hours end, if `now` is inside them (its own time zone)."""
    start, end = rules.quiet_start_hour, rules.quiet_end_hour
    if start == end:
        return None
    local = now.astimezone(tenant.zone)
    hour = local.hour
    inside = (start <= hour < end) if start < end else (hour >= start or hour < end)
    if not inside:
        return None
    day = local.date() + timedelta(days=1) if start > end and hour >= start else local.date()
    naive = datetime(day.year, day.month, day.day, end)
    return timezone.make_aware(naive, tenant.zone)


def opted_out(*, tenant_id: int, phone: str, email: str) -> bool:
    contacts = OptOut.objects.for_tenant(tenant_id)
    return (bool(phone) and contacts.filter(phone=phone).exists()) or (
        bool(email) and contacts.filter(email__iexact=email).exists()
    )


@transaction.atomic
def invitation_after_visit(*, visit_id: int, now: datetime | None = None) -> Invitation | None:
    """The invitation a completed visit gets: written once (the visit's row lock and the
    unique visit make a second run find the first), skipped with a reason when the rules say
    so, deferred to the end of quiet hours, or sent at once through the outbox."""
    now = now or timezone.now()
    visit = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("request__customer", "request__tenant")
        .filter(pk=visit_id, status=Visit.Status.COMPLETED)
        .first()
    )
    if visit is None:
        return None
    existing = Invitation.objects.filter(visit=visit).first()
    if existing is not None:
        return existing
    request, tenant = visit.request, visit.request.tenant
    # Two visits of one customer finishing together must not both pass the over-survey rule.
    customer = Customer.objects.select_for_update().get(pk=request.customer_id)
    rules = survey_settings_for(tenant.pk)
    template = template_for(tenant_id=tenant.pk, purpose=SurveyTemplate.Purpose.AFTER_VISIT)
    reason = _skip_reason(customer, tenant, rules, visit, now)
    invitation = Invitation.objects.create(
        tenant=tenant,
        template=template,
        visit=visit,
        request=request,
        customer=customer,
        channel="sms" if customer.phone else "email",
        language=customer.language or tenant.language,
        status=Invitation.Status.SKIPPED if reason else Invitation.Status.SCHEDULED,
        skip_reason=reason,
    )
    if reason:
        return invitation
    wait = quiet_until(now, tenant, rules)
    if wait is not None:
        invitation.send_after = wait
        invitation.save(update_fields=["send_after"])
        return invitation
    _invitation_send(invitation, request, now, rules)
    return invitation


def _skip_reason(customer: Customer, tenant: Tenant, rules, visit: Visit, now: datetime) -> str:
    if not customer.phone and not customer.email:
        return "no_contact"
    if opted_out(tenant_id=tenant.pk, phone=customer.phone, email=customer.email):
        return "opted_out"
    if not sampled(rules.sampling_percent, tenant.pk, visit.pk):
        return "not_sampled"
    recent = (
        Invitation.objects.for_tenant(tenant)
        .filter(customer=customer, created_at__gte=now - timedelta(days=rules.rest_days))
        .exclude(status=Invitation.Status.SKIPPED)
    )
    if rules.rest_days and recent.exists():
        return "asked_recently"
    return ""


def survey_url(token: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("survey-link", kwargs={"token": token})


def _invitation_send(invitation: Invitation, request: ServiceRequest, now: datetime, rules) -> None:
    """Make the link's token (only its digest is kept), start its validity, and queue the
    message in the customer's language; delivered after commit."""
    token = token_new()
    invitation.token_hash = token_digest(token)
    invitation.status = Invitation.Status.SENT
    invitation.sent_at = now
    invitation.expires_at = now + timedelta(days=rules.link_days)
    invitation.save(update_fields=["token_hash", "status", "sent_at", "expires_at"])
    tenant = request.tenant
    with override(invitation.language):
        body = _(
            "%(tenant)s: how did your visit %(number)s go? Please rate it: %(link)s "
            "Reply STOP to receive no more surveys."
        ) % {"tenant": tenant.name, "number": request.number, "link": survey_url(token)}
    notification_enqueue(
        **customer_message(
            request,
            body=body,
            kind="survey_invitation",
            dedupe_key=f"survey-invitation:{invitation.pk}",
            tenant=tenant,
        )
    )


def invitations_due(*, now: datetime | None = None, limit: int = 200) -> list[int]:
    return list(
        Invitation.objects.filter(
            status=Invitation.Status.SCHEDULED, send_after__lte=now or timezone.now()
        )
        .order_by("send_after")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def invitation_send_due(*, invitation_id: int, now: datetime | None = None) -> str:
    """Send one invitation that waited for quiet hours to end (beat). The row lock and the
    status make a second run, or two beats, send it once."""
    now = now or timezone.now()
    invitation = (
        Invitation.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("request__tenant", "request__customer", "customer")
        .filter(pk=invitation_id, status=Invitation.Status.SCHEDULED)
        .first()
    )
    if invitation is None:
        return "skipped"
    tenant = invitation.request.tenant
    rules = survey_settings_for(tenant.pk)
    customer = invitation.customer
    if opted_out(tenant_id=tenant.pk, phone=customer.phone, email=customer.email):
        invitation.status, invitation.skip_reason = Invitation.Status.SKIPPED, "opted_out"
        invitation.save(update_fields=["status", "skip_reason"])
        return "opted_out"
    wait = quiet_until(now, tenant, rules)
    if wait is not None:
        invitation.send_after = wait
        invitation.save(update_fields=["send_after"])
        return "deferred"
    _invitation_send(invitation, invitation.request, now, rules)
    return "sent"


@transaction.atomic
def survey_opt_out(*, tenant_id: int, phone: str = "", email: str = "", source: str) -> OptOut:
    """No more invitations to this phone or address (a repeated wish is the same row); the
    invitations still waiting for quiet hours to end are not sent."""
    if not phone and not email:
        raise DomainError(_("A phone number or an e-mail address is needed."))
    lookup = {"phone": phone} if phone else {"email": email.lower()}
    try:
        with transaction.atomic():
            opt_out, _created = OptOut.objects.get_or_create(
                tenant_id=tenant_id, **lookup, defaults={"source": source}
            )
    except IntegrityError:  # the same wish sent twice at once
        opt_out = OptOut.objects.get(tenant_id=tenant_id, **lookup)
    waiting = Invitation.objects.for_tenant(tenant_id).filter(status=Invitation.Status.SCHEDULED)
    waiting = (
        waiting.filter(customer__phone=phone)
        if phone
        else waiting.filter(customer__email__iexact=email)
    )
    waiting.update(status=Invitation.Status.SKIPPED, skip_reason="opted_out")
    return opt_out


def is_stop_word(text: str) -> bool:
    return text.strip().strip(".!").casefold() in STOP_WORDS


# ---- Responses -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ties:
    """What a response is about, where it exists."""

    request: ServiceRequest | None = None
    visit: Visit | None = None
    service_point_id: int | None = None
    kiosk_id: int | None = None
    operator: User | None = None

    @classmethod
    def of_visit(cls, visit: Visit | None, **more) -> "Ties":
        if visit is None:
            return cls(**more)
        return cls(request=visit.request, visit=visit, operator=operator_of(visit.request), **more)


def operator_of(request: ServiceRequest | None) -> User | None:
    """The contact-center operator who took the request in, when one did."""
    creator = request.created_by if request is not None else None
    return creator if creator is not None and creator.role == Role.OPERATOR else None


def response_record(
    *,
    tenant_id: int,
    template: SurveyTemplate | None,
    channel: str,
    raw: dict,
    ties: Ties = Ties(),
    external_id: str = "",
    language: str = "",
    submitted_at: datetime | None = None,
) -> Response:
    """Check the answers against the template (AnswersInvalid with a message per field), then
    write the response, its answers, and what a low score opens. Call inside a transaction."""
    cleaned = answers_clean(questions_of(template), raw)
    if cleaned.errors:
        raise AnswersInvalid(cleaned.errors)
    response = Response.objects.create(
        tenant_id=tenant_id,
        template=template,
        channel=channel,
        request=ties.request,
        visit=ties.visit,
        technician_id=ties.visit.technician_id if ties.visit else None,
        operator=ties.operator,
        service_point_id=ties.service_point_id,
        kiosk_id=ties.kiosk_id,
        external_id=external_id,
        language=language,
        submitted_at=submitted_at or timezone.now(),
    )
    answers_write(response, questions_of(template), cleaned.values)
    response_finish(response)
    return response


def answers_write(response: Response, questions: list[Question], values: dict) -> None:
    by_id = {question.pk: question for question in questions}
    Answer.objects.bulk_create(
        [
            Answer(
                tenant_id=response.tenant_id,
                response=response,
                question=by_id[question_id],
                kind=by_id[question_id].kind,
                value=None if isinstance(value, str) else value,
                text=value if isinstance(value, str) else "",
            )
            for question_id, value in values.items()
        ],
        ignore_conflicts=True,  # an answer repeated (a keypad retry) is the first answer
    )


def response_finish(response: Response) -> None:
    """Copy the headline answers onto the response, note it in the request's history, and open
    a follow-up case when the score is low and someone can be called back."""
    headline = {"csat": None, "nps": None, "ces": None, "solved": None}
    comment = ""
    for kind, value, text in Answer.objects.filter(response=response).values_list(
        "kind", "value", "text"
    ):
        if kind == Question.Kind.TEXT:
            comment = text
        elif headline.get(kind) is None:
            headline[kind] = bool(value) if kind == Question.Kind.SOLVED else value
    for field, value in headline.items():
        if value is not None or getattr(response, field) is None:
            setattr(response, field, value if value is not None else getattr(response, field))
    response.complete = True
    response.save(update_fields=["csat", "nps", "ces", "solved", "complete"])
    low = low_score_reasons(response)
    if response.request_id is None:
        return
    tenant = Tenant.objects.get(pk=response.tenant_id)
    with override(tenant.language):
        request_noted(
            request=response.request,
            reason=_("Survey (%(channel)s): %(summary)s")
            % {
                "channel": response.get_channel_display(),
                "summary": response_summary(response, comment),
            },
        )
        if low:
            hours = survey_settings_for(tenant.pk).follow_up_hours
            FollowUpCase.objects.create(
                tenant_id=response.tenant_id,
                response=response,
                request=response.request,
                reason="; ".join(low)[:200],
                due_at=timezone.now() + timedelta(hours=hours),
            )


def low_score_reasons(response: Response) -> list[str]:
    reasons = []
    if response.csat is not None and response.csat <= 2:
        reasons.append(_("satisfaction %(score)s of 5") % {"score": response.csat})
    if response.nps is not None and response.nps <= 6:
        reasons.append(_("recommendation %(score)s of 10") % {"score": response.nps})
    if response.solved is False:
        reasons.append(_("problem not solved"))
    return reasons


def response_summary(response: Response, comment: str = "") -> str:
    parts = []
    if response.csat is not None:
        parts.append(_("satisfaction %(score)s of 5") % {"score": response.csat})
    if response.nps is not None:
        parts.append(_("recommendation %(score)s of 10") % {"score": response.nps})
    if response.ces is not None:
        parts.append(_("effort %(score)s of 7") % {"score": response.ces})
    if response.solved is not None:
        parts.append(_("solved") if response.solved else _("problem not solved"))
    if comment:
        parts.append(f"“{comment[:120]}”")
    return ", ".join(parts)


@transaction.atomic
def response_by_link(*, token: str, raw: dict) -> Response:
    """The customer's answers by link: the invitation's row lock lets one of many concurrent
    submissions in; the others find it answered (410). A link that names nothing is 404."""
    invitation_id, tenant_id = invitation_id_for_token(token)
    scope_for_transaction(tenant_id)
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("visit__request__created_by", "template")
        .get(pk=invitation_id)
    )
    invitation_usable(invitation)
    response = response_record(
        tenant_id=tenant_id,
        template=invitation.template,
        channel=Response.Channel.LINK,
        raw=raw,
        ties=Ties.of_visit(invitation.visit),
        language=invitation.language,
    )
    response.invitation = invitation
    response.save(update_fields=["invitation"])
    invitation.status = Invitation.Status.ANSWERED
    invitation.answered_at = response.submitted_at
    invitation.save(update_fields=["status", "answered_at"])
    return response


@transaction.atomic
def opt_out_by_link(*, token: str) -> OptOut:
    invitation_id, tenant_id = invitation_id_for_token(token)
    scope_for_transaction(tenant_id)
    invitation = Invitation.objects.select_related("customer").get(pk=invitation_id)
    customer = invitation.customer
    return survey_opt_out(
        tenant_id=tenant_id,
        phone=customer.phone,
        email="" if customer.phone else customer.email,
        source=OptOut.Source.LINK,
    )


# ---- The loop closed -------------------------------------------------------------------------


@transaction.atomic
def follow_up_close(
    *, case: FollowUpCase, actor: User, note: str, reopen: bool = False
) -> FollowUpCase:
    """Close a case with what was done; `reopen` sends a completed request back to `new` (a
    StatusChange naming the manager), when the customer said the problem is not solved."""
    case = FollowUpCase.objects.select_for_update().get(pk=case.pk)
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Write what was done."), field="note")
    if "\x00" in note or len(note) > 2000:
        raise DomainError(_("The note is not valid text or is too long."), field="note")
    if case.status == FollowUpCase.Status.CLOSED:
        raise IllegalTransition(_("This case is already closed."))
    if reopen:
        if case.request_id is None:
            raise DomainError(_("This case has no request to reopen."), field="reopen")
        request = ServiceRequest.objects.select_for_update().get(pk=case.request_id)
        if request.status != RequestStatus.COMPLETED:
            raise IllegalTransition(_("Only a completed request can be reopened."))
        request_transition(
            request=request,
            to=RequestStatus.NEW,
            actor=actor,
            reason=_("Reopened after a survey: %(note)s") % {"note": note},
        )
        case.reopened_request = True
    case.status = FollowUpCase.Status.CLOSED
    case.note = note
    case.closed_by = actor
    case.closed_at = timezone.now()
    case.save()
    return case
