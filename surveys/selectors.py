"""Reads of satisfaction data: lookups by token (links, kiosks), the user-scoped lookups of
follow-up cases, calls and audit forms, and the results the manager pages, the API and the KPI
reports build on (`survey_results`, `survey_response_rates`)."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Avg, Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Trunc
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from core.errors import DomainError, NotFound
from core.tenancy import every_tenant
from surveys.models import (
    AuditForm,
    Call,
    FollowUpCase,
    Invitation,
    KioskDevice,
    Question,
    Response,
    SurveySettings,
    SurveyTemplate,
)
from surveys.tokens import token_digest

MANAGER_ROLES = (Role.MANAGER, Role.ADMIN)
CALLER_ROLES = (Role.OPERATOR, Role.MANAGER, Role.ADMIN)


class Gone(DomainError):
    """A link that worked once and no longer does (answered, expired): 410."""

    status_code = 410
    code = "gone"

    @classmethod
    def default_message(cls) -> str:
        return _("This survey link can no longer be used.")


class AlreadyAnswered(Gone):
    code = "already_answered"

    @classmethod
    def default_message(cls) -> str:
        return _("This survey was already answered. Thank you!")


class LinkExpired(Gone):
    code = "link_expired"

    @classmethod
    def default_message(cls) -> str:
        return _("This survey link has expired.")


def survey_settings_for(tenant_id: int) -> SurveySettings:
    """The tenant's rules, or the defaults (unsaved) when it never changed them."""
    found = SurveySettings.objects.for_tenant(tenant_id).first()
    return found or SurveySettings(tenant_id=tenant_id)


def template_active(*, tenant_id: int, purpose: str) -> SurveyTemplate | None:
    return (
        SurveyTemplate.objects.for_tenant(tenant_id)
        .filter(purpose=purpose, active=True)
        .prefetch_related("questions")
        .first()
    )


def questions_of(template: SurveyTemplate | None) -> list[Question]:
    return list(template.questions.all()) if template is not None else []


def invitation_id_for_token(token: str) -> tuple[int, int]:
    """(invitation id, tenant id) a link names, found across tenants (the link is all the
    customer has); a token that names nothing is 404."""
    digest = token_digest(token)
    if digest is None:
        raise NotFound()
    with every_tenant():
        found = Invitation.objects.filter(token_hash=digest).values_list("pk", "tenant_id").first()
    if found is None:
        raise NotFound()
    return found


def invitation_usable(invitation: Invitation, *, now: datetime | None = None) -> None:
    """Raise Gone unless the link may still be answered."""
    if invitation.status == Invitation.Status.ANSWERED:
        raise AlreadyAnswered()
    if invitation.expires_at is None or invitation.expires_at <= (now or timezone.now()):
        raise LinkExpired()


def invitation_for_token(token: str) -> Invitation:
    """The invitation a link opens, with what its page shows; 404 unknown, 410 used/expired."""
    invitation_id, _tenant_id = invitation_id_for_token(token)
    with every_tenant():
        invitation = (
            Invitation.objects.select_related("tenant", "request", "template")
            .prefetch_related("template__questions")
            .get(pk=invitation_id)
        )
    invitation_usable(invitation)
    return invitation


def kiosk_for_token(token: str) -> KioskDevice:
    digest = token_digest(token)
    if digest is None:
        raise NotFound()
    with every_tenant():
        kiosk = (
            KioskDevice.objects.select_related("tenant", "service_point")
            .filter(token_hash=digest, active=True)
            .first()
        )
    if kiosk is None:
        raise NotFound()
    return kiosk


def _tenant_of(user: User, roles: tuple[str, ...]) -> int:
    if not user.is_authenticated or user.tenant_id is None or user.role not in roles:
        raise NotFound()
    return user.tenant_id


def follow_ups_for_user(user: User, *, status: str | None = None) -> QuerySet:
    """A manager's cases (their tenant's), with what a row shows, in a fixed number of queries."""
    if not user.is_authenticated or user.role not in MANAGER_ROLES or user.tenant_id is None:
        return FollowUpCase.objects.none()
    queryset = FollowUpCase.objects.for_tenant(user.tenant_id).select_related(
        "request", "response", "response__technician__user", "closed_by"
    )
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("status", "due_at", "pk")


def get_follow_up_for_user(user: User, pk: int) -> FollowUpCase:
    case = follow_ups_for_user(user).filter(pk=pk).first()
    if case is None:
        raise NotFound()
    return case


def calls_due_for_user(user: User, *, limit: int = 100) -> list[Call]:
    tenant_id = _tenant_of(user, CALLER_ROLES)
    return list(
        Call.objects.for_tenant(tenant_id)
        .filter(status=Call.Status.PENDING, next_call_at__lte=timezone.now())
        .select_related("campaign", "visit__request__customer", "visit__technician__user")
        .order_by("next_call_at", "pk")[:limit]
    )


def get_call_for_user(user: User, pk: int) -> Call:
    tenant_id = _tenant_of(user, CALLER_ROLES)
    call = (
        Call.objects.for_tenant(tenant_id)
        .select_related("campaign__template", "visit__request__customer", "visit__technician__user")
        .prefetch_related("campaign__template__questions", "history__operator")
        .filter(pk=pk)
        .first()
    )
    if call is None:
        raise NotFound()
    return call


def get_audit_form_for_user(user: User, pk: int) -> AuditForm:
    tenant_id = _tenant_of(user, MANAGER_ROLES)
    form = (
        AuditForm.objects.for_tenant(tenant_id)
        .filter(pk=pk, active=True)
        .prefetch_related("items")
        .first()
    )
    if form is None:
        raise NotFound()
    return form


# ---- Results ---------------------------------------------------------------------------------

_NAME = Concat(F("technician__user__first_name"), Value(" "), F("technician__user__last_name"))
_OPERATOR = Coalesce(
    NullIf(Concat(F("operator__first_name"), Value(" "), F("operator__last_name")), Value(" ")),
    F("operator__username"),
)
# group → (the key column, the label expression)
GROUPS = {
    "technician": ("technician_id", _NAME),
    "operator": ("operator_id", _OPERATOR),
    "service_point": ("service_point_id", F("service_point__name")),
    # A technician's territory, else the service point's region (kiosk and imported ratings).
    "region": (
        None,
        Coalesce(
            NullIf(F("technician__territory"), Value("")),
            NullIf(F("service_point__region"), Value("")),
        ),
    ),
    "channel": ("channel", F("channel")),
}
BUCKETS = ("day", "week", "month")


@dataclass(frozen=True)
class ResultRow:
    key: object
    label: str
    period: datetime | None
    responses: int
    csat_average: float | None
    csat_satisfied_percent: float | None  # share of 4 and 5
    nps: float | None  # promoters % − detractors %
    ces_average: float | None
    solved_percent: float | None
    low_scores: int


def survey_results(
    *,
    tenant_id: int,
    start: datetime,
    end: datetime,
    group_by: str = "channel",
    bucket: str | None = None,
    zone=None,
) -> list[ResultRow]:
    """Satisfaction of one tenant's responses submitted in [start, end), grouped by technician,
    operator, service point, region or channel, and by day/week/month in the tenant's `zone`
    when `bucket` is given. One query, whatever the number of responses."""
    if group_by not in GROUPS:
        raise DomainError(_("Unknown grouping."), field="group_by")
    if bucket is not None and bucket not in BUCKETS:
        raise DomainError(_("Unknown period."), field="bucket")
    key_field, label = GROUPS[group_by]
    queryset = Response.objects.for_tenant(tenant_id).filter(
        submitted_at__gte=start, submitted_at__lt=end, complete=True
    )
    annotations = {"label": label}
    if bucket is not None:
        annotations["period"] = Trunc("submitted_at", bucket, tzinfo=zone)
    names = ["label", *(["period"] if bucket else []), *([key_field] if key_field else [])]
    rows = (
        queryset.annotate(**annotations)
        .values(*names)
        .annotate(
            responses=Count("pk"),
            csat_average=Avg("csat"),
            csat_answers=Count("csat"),
            csat_satisfied=Count("pk", filter=Q(csat__gte=4)),
            nps_answers=Count("nps"),
            promoters=Count("pk", filter=Q(nps__gte=9)),
            detractors=Count("pk", filter=Q(nps__lte=6)),
            ces_average=Avg("ces"),
            solved_answers=Count("solved"),
            solved_yes=Count("pk", filter=Q(solved=True)),
            low_scores=Count("pk", filter=Q(csat__lte=2) | Q(nps__lte=6) | Q(solved=False)),
        )
        .order_by(*(["period"] if bucket else []), "label")
    )
    return [_result_row(row, key_field, group_by) for row in rows]


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _result_row(row: dict, key_field: str | None, group_by: str) -> ResultRow:
    label = (row["label"] or "").strip()
    if group_by == "channel":
        label = str(Response.Channel(label).label) if label else label
    nps = None
    if row["nps_answers"]:
        nps = round(100 * (row["promoters"] - row["detractors"]) / row["nps_answers"], 1)
    return ResultRow(
        key=row[key_field] if key_field else (row["label"] or None),
        label=label or _("Not known"),
        period=row.get("period"),
        responses=row["responses"],
        csat_average=round(row["csat_average"], 2) if row["csat_average"] is not None else None,
        csat_satisfied_percent=_percent(row["csat_satisfied"], row["csat_answers"]),
        nps=nps,
        ces_average=round(row["ces_average"], 2) if row["ces_average"] is not None else None,
        solved_percent=_percent(row["solved_yes"], row["solved_answers"]),
        low_scores=row["low_scores"],
    )


@dataclass(frozen=True)
class ChannelRate:
    channel: str
    label: str
    asked: int | None  # None: the channel asks no one in particular (kiosk, keypad, import)
    answered: int
    rate_percent: float | None


def survey_response_rates(*, tenant_id: int, start: datetime, end: datetime) -> list[ChannelRate]:
    """Per channel, how many were asked in [start, end) and how many answered: links sent vs
    answered, calls dialled vs answered; responses alone for the channels that ask nobody.
    Three queries, whatever the volume."""
    links = (
        Invitation.objects.for_tenant(tenant_id)
        .filter(sent_at__gte=start, sent_at__lt=end)
        .aggregate(
            asked=Count("pk"), answered=Count("pk", filter=Q(status=Invitation.Status.ANSWERED))
        )
    )
    calls = (
        Call.objects.for_tenant(tenant_id)
        .filter(attempts__gt=0, campaign__created_at__lt=end, next_call_at__gte=start)
        .aggregate(asked=Count("pk"), answered=Count("pk", filter=Q(status=Call.Status.DONE)))
    )
    others = dict(
        Response.objects.for_tenant(tenant_id)
        .filter(submitted_at__gte=start, submitted_at__lt=end, complete=True)
        .exclude(channel__in=[Response.Channel.LINK, Response.Channel.PHONE])
        .values_list("channel")
        .annotate(count=Count("pk"))
    )
    rates = [
        ChannelRate(
            "link",
            str(Response.Channel.LINK.label),
            links["asked"],
            links["answered"],
            _percent(links["answered"], links["asked"]),
        ),
        ChannelRate(
            "phone",
            str(Response.Channel.PHONE.label),
            calls["asked"],
            calls["answered"],
            _percent(calls["answered"], calls["asked"]),
        ),
    ]
    for channel in (Response.Channel.KIOSK, Response.Channel.IVR, Response.Channel.IMPORT):
        rates.append(
            ChannelRate(channel.value, str(channel.label), None, others.get(channel, 0), None)
        )
    return rates
