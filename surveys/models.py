"""Satisfaction: survey templates (versioned, en/ru/kk), responses from every channel, the
invitations, kiosks, phone campaigns and audits that collect them, and the follow-up cases a
low score opens."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantOwned

LANGUAGES = ("en", "ru", "kk")


def new_token() -> str:
    """Kept for migration 0001 (the first survey model's plain-text token, since dropped)."""
    return secrets.token_urlsafe(24)


class SurveySettings(TenantOwned):
    """A tenant's rules for asking: how long a link lives, how often a customer may be asked,
    what share of visits is asked, when no message is sent, how soon a low score is worked."""

    link_days = models.PositiveSmallIntegerField(_("link valid (days)"), default=7)
    rest_days = models.PositiveSmallIntegerField(
        _("days between two invitations to one customer"), default=30
    )
    sampling_percent = models.PositiveSmallIntegerField(_("visits asked (%)"), default=100)
    quiet_start_hour = models.PositiveSmallIntegerField(_("quiet hours from"), default=21)
    quiet_end_hour = models.PositiveSmallIntegerField(_("quiet hours until"), default=9)
    follow_up_hours = models.PositiveSmallIntegerField(_("follow-up due in (hours)"), default=24)

    class Meta:
        verbose_name = _("survey settings")
        verbose_name_plural = _("survey settings")
        constraints = [
            # One set of rules per tenant: the invitation rules read exactly one.
            models.UniqueConstraint(fields=["tenant"], name="survey_settings_one_per_tenant"),
            models.CheckConstraint(
                condition=Q(sampling_percent__lte=100)
                & Q(quiet_start_hour__lte=23)
                & Q(quiet_end_hour__lte=23)
                & Q(link_days__gte=1),
                name="survey_settings_in_range",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Survey settings"))


class SurveyTemplate(TenantOwned):
    """One version of a questionnaire. A version that has answers is never edited: a change is
    a new version (`survey_template_new_version`), so every answer keeps its question."""

    class Purpose(models.TextChoices):
        AFTER_VISIT = "after_visit", _("After a visit (link)")
        KIOSK = "kiosk", _("Service-point terminal")
        IVR = "ivr", _("IVR (keypad)")
        PHONE = "phone", _("Outbound phone survey")

    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    name = models.CharField(_("name"), max_length=120)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("survey template")
        verbose_name_plural = _("survey templates")
        ordering = ["purpose", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "purpose", "version"], name="survey_template_version_unique"
            ),
            # Each channel asks one questionnaire at a time.
            models.UniqueConstraint(
                fields=["tenant", "purpose"],
                condition=Q(active=True),
                name="survey_template_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Question(TenantOwned):
    class Kind(models.TextChoices):
        CSAT = "csat", _("Satisfaction (1–5)")
        NPS = "nps", _("Likelihood to recommend (0–10)")
        CES = "ces", _("Effort (1–7)")
        SOLVED = "solved", _("Problem solved (yes/no)")
        TEXT = "text", _("Free text")

    # The values each kind accepts (`solved`: 1 yes, 0 no).
    RANGES = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7), "solved": (0, 1)}

    template = models.ForeignKey(SurveyTemplate, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    text_en = models.CharField(_("text (English)"), max_length=300)
    text_ru = models.CharField(_("text (Russian)"), max_length=300)
    text_kk = models.CharField(_("text (Kazakh)"), max_length=300)
    required = models.BooleanField(_("required"), default=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["template", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "position"], name="survey_question_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.text_en

    def text(self, language: str) -> str:
        return getattr(self, f"text_{language}", "") or self.text_en


class ServicePoint(TenantOwned):
    """An office where customers are served; its terminals and audits are tied to it."""

    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    region = models.CharField(_("region"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("service point")
        verbose_name_plural = _("service points")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="service_point_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class KioskDevice(TenantOwned):
    """A registered rating terminal. Its token (shown once when registered) is stored only as
    a SHA-256 digest: the table alone opens no kiosk page."""

    service_point = models.ForeignKey(ServicePoint, on_delete=models.CASCADE, related_name="kiosks")
    name = models.CharField(_("name"), max_length=120)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("kiosk")
        verbose_name_plural = _("kiosks")
        ordering = ["service_point", "name"]

    def __str__(self) -> str:
        return self.name


class Invitation(TenantOwned):
    """An invitation to answer by link after a visit. Written when the visit completes (kept
    for the over-survey rule even when skipped); its single-use token, 192 random bits, is made
    when the message is sent and stored only as a SHA-256 digest."""

    class Status(models.TextChoices):
        SKIPPED = "skipped", _("Not sent (rules)")
        SCHEDULED = "scheduled", _("Waiting for the end of quiet hours")
        SENT = "sent", _("Sent")
        ANSWERED = "answered", _("Answered")

    template = models.ForeignKey(SurveyTemplate, on_delete=models.PROTECT, related_name="+")
    visit = models.OneToOneField(
        "technicians.Visit", on_delete=models.CASCADE, related_name="survey_invitation"
    )
    request = models.ForeignKey(
        "requests_app.ServiceRequest", on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey(
        "requests_app.Customer", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=8)  # the outbox's: sms | email
    language = models.CharField(max_length=8, default="ru")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    skip_reason = models.CharField(_("why not sent"), max_length=40, blank=True)
    # NULL until sent: unique among the sent ones only.
    token_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)  # noqa: DJ001
    send_after = models.DateTimeField(_("send after"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["send_after"], name="invitation_due", condition=Q(status="scheduled")
            ),
            models.Index(fields=["customer", "created_at"], name="invitation_customer_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} ({self.status})"


class OptOut(TenantOwned):
    """A customer who asked not to be surveyed (SMS STOP, or the link's button)."""

    class Source(models.TextChoices):
        SMS = "sms", _("SMS reply")
        LINK = "link", _("Survey link")

    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("survey opt-out")
        verbose_name_plural = _("survey opt-outs")
        constraints = [
            # A repeated STOP is the same wish, not a second row.
            models.UniqueConstraint(
                fields=["tenant", "phone"], condition=~Q(phone=""), name="opt_out_phone_once"
            ),
            models.UniqueConstraint(
                fields=["tenant", "email"], condition=~Q(email=""), name="opt_out_email_once"
            ),
        ]

    def __str__(self) -> str:
        return self.phone or self.email


class Response(TenantOwned):
    """One completed questionnaire, from any channel, tied to what it is about. The headline
    answers are copied onto the row so results are one aggregate query."""

    class Channel(models.TextChoices):
        LINK = "link", _("Link after a visit")
        KIOSK = "kiosk", _("Service-point terminal")
        IVR = "ivr", _("IVR (keypad)")
        PHONE = "phone", _("Outbound phone survey")
        IMPORT = "import", _("Imported from a terminal")

    template = models.ForeignKey(
        SurveyTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="responses"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    invitation = models.OneToOneField(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="response"
    )
    request = models.ForeignKey(
        "requests_app.ServiceRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_responses",
    )
    visit = models.ForeignKey(
        "technicians.Visit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    technician = models.ForeignKey(
        "technicians.Technician",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_responses",
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    service_point = models.ForeignKey(
        ServicePoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="responses"
    )
    kiosk = models.ForeignKey(
        KioskDevice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The id the sender gave it (a kiosk's client id, a call id, a terminal's row): a retry of
    # the same answer finds it instead of counting it twice.
    external_id = models.CharField(max_length=120, blank=True)
    language = models.CharField(max_length=8, blank=True)
    complete = models.BooleanField(default=True)
    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    nps = models.PositiveSmallIntegerField(null=True, blank=True)
    ces = models.PositiveSmallIntegerField(null=True, blank=True)
    solved = models.BooleanField(null=True, blank=True)
    submitted_at = models.DateTimeField(_("answered"), db_index=True)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-submitted_at"]
        constraints = [
            # Retries of one kiosk tap, one call or one imported row are one response.
            models.UniqueConstraint(
                fields=["tenant", "channel", "external_id"],
                condition=~Q(external_id=""),
                name="survey_response_external_once",
            ),
            models.CheckConstraint(
                condition=(Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5))
                & (Q(nps__isnull=True) | Q(nps__lte=10))
                & (Q(ces__isnull=True) | Q(ces__gte=1, ces__lte=7)),
                name="survey_response_scores_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.submitted_at:%Y-%m-%d}"


class Answer(TenantOwned):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    kind = models.CharField(max_length=8, choices=Question.Kind.choices)
    value = models.SmallIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            # A question is answered once per response (an IVR retry adds nothing).
            models.UniqueConstraint(fields=["response", "question"], name="answer_once"),
            # The value a kind allows, whatever channel wrote it.
            models.CheckConstraint(
                condition=Q(kind="text", value__isnull=True)
                | Q(kind="csat", value__gte=1, value__lte=5)
                | Q(kind="nps", value__gte=0, value__lte=10)
                | Q(kind="ces", value__gte=1, value__lte=7)
                | Q(kind="solved", value__gte=0, value__lte=1),
                name="answer_value_in_range",
            ),
        ]


class FollowUpCase(TenantOwned):
    """A low score (CSAT ≤ 2, NPS ≤ 6, not solved) for a manager to work, due by `due_at`."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="follow_up")
    request = models.ForeignKey(
        "requests_app.ServiceRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_follow_ups",
    )
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    due_at = models.DateTimeField(_("due"))
    note = models.TextField(_("note"), blank=True)
    reopened_request = models.BooleanField(_("request reopened"), default=False)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up case")
        verbose_name_plural = _("follow-up cases")
        ordering = ["status", "due_at"]
        constraints = [
            # A closed case says who closed it and why.
            models.CheckConstraint(
                condition=Q(status="open") | (Q(closed_at__isnull=False) & ~Q(note="")),
                name="follow_up_closed_with_note",
            ),
        ]

    def __str__(self) -> str:
        return self.reason


class PhoneCampaign(TenantOwned):
    """Completed visits of a period, sampled into a call list for operators."""

    name = models.CharField(_("name"), max_length=120)
    template = models.ForeignKey(SurveyTemplate, on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField(_("visits from"))
    period_end = models.DateField(_("visits until"))
    sample_percent = models.PositiveSmallIntegerField(_("sample (%)"), default=20)
    max_attempts = models.PositiveSmallIntegerField(_("attempts per customer"), default=3)
    retry_minutes = models.PositiveIntegerField(_("retry after (minutes)"), default=120)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("phone campaign")
        verbose_name_plural = _("phone campaigns")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Call(TenantOwned):
    """One customer to call in a campaign, until answered, refused or out of attempts."""

    class Status(models.TextChoices):
        PENDING = "pending", _("To call")
        DONE = "done", _("Answered")
        REFUSED = "refused", _("Refused")
        GAVE_UP = "gave_up", _("No answer after every attempt")

    campaign = models.ForeignKey(PhoneCampaign, on_delete=models.CASCADE, related_name="calls")
    visit = models.ForeignKey("technicians.Visit", on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(_("phone"), max_length=32)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_call_at = models.DateTimeField(_("call at"))
    response = models.OneToOneField(
        Response, on_delete=models.SET_NULL, null=True, blank=True, related_name="call"
    )

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["next_call_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "visit"], name="call_once_per_visit"),
        ]


class CallAttempt(TenantOwned):
    """What happened on one dial: the call's history, one row per attempt."""

    class Outcome(models.TextChoices):
        ANSWERED = "answered", _("Answered the survey")
        NO_ANSWER = "no_answer", _("No answer")
        REFUSED = "refused", _("Refused")
        CALL_BACK = "call_back", _("Call back later")

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="history")
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    call_back_at = models.DateTimeField(_("call back at"), null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("call attempt")
        verbose_name_plural = _("call attempts")
        ordering = ["at"]


class AuditForm(TenantOwned):
    """A mystery-shopper checklist with weighted items."""

    class Target(models.TextChoices):
        SERVICE_POINT = "service_point", _("Service point")
        OPERATOR = "operator", _("Contact-center operator")
        CHANNEL = "channel", _("Channel")

    name = models.CharField(_("name"), max_length=120)
    target = models.CharField(_("audited"), max_length=16, choices=Target.choices)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("audit form")
        verbose_name_plural = _("audit forms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AuditItem(TenantOwned):
    form = models.ForeignKey(AuditForm, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("position"))
    text_en = models.CharField(_("text (English)"), max_length=300)
    text_ru = models.CharField(_("text (Russian)"), max_length=300)
    text_kk = models.CharField(_("text (Kazakh)"), max_length=300)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)

    class Meta:
        verbose_name = _("audit item")
        verbose_name_plural = _("audit items")
        ordering = ["form", "position"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=1), name="audit_item_weight_positive"),
        ]

    def text(self, language: str) -> str:
        return getattr(self, f"text_{language}", "") or self.text_en


class Audit(TenantOwned):
    """One mystery-shopper visit or call, scored as the weighted share of items passed."""

    form = models.ForeignKey(AuditForm, on_delete=models.PROTECT, related_name="audits")
    auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    service_point = models.ForeignKey(
        ServicePoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="audits"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    score = models.DecimalField(_("score (%)"), max_digits=5, decimal_places=1)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("audit")
        verbose_name_plural = _("audits")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=100), name="audit_score_percent"
            ),
        ]


class AuditMark(TenantOwned):
    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="marks")
    item = models.ForeignKey(AuditItem, on_delete=models.PROTECT, related_name="+")
    passed = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["audit", "item"], name="audit_mark_once"),
        ]
