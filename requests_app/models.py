"""Customers, their service requests and the audit trail of every status change."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantOwned
from requests_app.numbering import next_request_number
from requests_app.states import Status

LAT = [MinValueValidator(-90), MaxValueValidator(90)]
LON = [MinValueValidator(-180), MaxValueValidator(180)]


def new_tracking_key() -> str:
    """128 random bits: what a customer's tracking link names (and all it names)."""
    return secrets.token_urlsafe(16)


class Customer(TenantOwned):
    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    lat = models.FloatField(_("latitude"), validators=LAT, null=True, blank=True)
    lon = models.FloatField(_("longitude"), validators=LON, null=True, blank=True)
    account_number = models.CharField(_("account number"), max_length=40, blank=True)
    # The language the customer last used with us (the portal records it); messages to them go
    # in it. Blank: their client's language.
    language = models.CharField(_("language"), max_length=8, blank=True, choices=settings.LANGUAGES)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        constraints = [
            # An account number identifies one customer within a tenant (used by IVR and e-mail).
            models.UniqueConstraint(
                fields=["tenant", "account_number"],
                condition=~models.Q(account_number=""),
                name="customer_account_unique_per_tenant",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Incident(TenantOwned):
    """One outage reported by many customers: emergencies of one category close in space and
    time are linked to it, so dispatchers see one outage with N customers, not N jobs."""

    category = models.CharField(_("category"), max_length=20)
    lat = models.FloatField(_("latitude"), validators=LAT)
    lon = models.FloatField(_("longitude"), validators=LON)
    opened_at = models.DateTimeField(_("opened"), db_index=True)
    last_report_at = models.DateTimeField(_("last report"))
    reports = models.PositiveIntegerField(_("reports"), default=0)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"INC-{self.pk:05d}" if self.pk else "INC-new"


class ServiceRequest(TenantOwned):
    class Kind(models.TextChoices):
        PLANNED = "planned", _("Planned")
        EMERGENCY = "emergency", _("Emergency")

    class Category(models.TextChoices):
        INSTALLATION = "installation", _("Installation")
        RELOCATION = "relocation", _("Service move")
        REPAIR = "repair", _("Repair")
        OUTAGE = "outage", _("Outage")
        MAINTENANCE = "maintenance", _("Maintenance")
        OTHER = "other", _("Other")

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone call")
        WEB = "web", _("Web portal")
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        IVR = "ivr", _("IVR")
        API = "api", _("API")
        DISPATCHER = "dispatcher", _("Dispatcher")

    Status = Status

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    priority = models.PositiveSmallIntegerField(
        _("priority"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("1 is the most urgent, 5 the least."),
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    description = models.TextField(_("description"), blank=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="requests"
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    lat = models.FloatField(_("latitude"), validators=LAT)
    lon = models.FloatField(_("longitude"), validators=LON)
    required_skills = models.ManyToManyField(
        "technicians.Skill", verbose_name=_("required skills"), blank=True, related_name="+"
    )
    estimated_minutes = models.PositiveSmallIntegerField(
        _("estimated duration (minutes)"),
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(720)],
    )
    # The arrival window agreed with the customer: a promise, kept apart from the internal plan.
    window_start = models.DateTimeField(_("agreed window start"), null=True, blank=True)
    window_end = models.DateTimeField(_("agreed window end"), null=True, blank=True)
    response_due = models.DateTimeField(_("response due"), null=True, blank=True)
    restoration_due = models.DateTimeField(_("restoration due"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    # Set when the plan can no longer keep the agreed window: dispatchers see an alert and the
    # customer is offered new windows. Cleared when a plan keeps the window again.
    window_at_risk = models.BooleanField(_("window at risk"), default=False)
    # A dispatcher took it back (unassign): the planner and the reconciler leave it alone until
    # a dispatcher releases it, or the next re-plan would undo the override.
    held = models.BooleanField(_("held by a dispatcher"), default=False)
    # Why the planner could not place it (shown to dispatchers), empty when placed.
    plan_note = models.CharField(_("planning note"), max_length=200, blank=True)
    # When the customer confirmed they will be there (SMS "1", IVR), for the technician's day.
    customer_confirmed_at = models.DateTimeField(_("customer confirmed"), null=True, blank=True)
    incident = models.ForeignKey(
        Incident,
        verbose_name=_("incident"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests",
    )
    # Numbered per tenant (SR-000123): a client sees its own count, never the platform's volume.
    number_in_tenant = models.PositiveIntegerField(_("number"), null=True, editable=False)
    # What a tracking link names: random, so a link tells nothing about the request or volume.
    tracking_key = models.CharField(
        max_length=32, unique=True, default=new_tracking_key, editable=False
    )
    # How many times the customer reported this emergency: a report of the same place while it
    # is open joins it (one visit) instead of opening another request.
    reports = models.PositiveSmallIntegerField(_("reports"), default=1)
    # Counted in the database so the reconciler can give up and escalate after N tries.
    assignment_attempts = models.PositiveSmallIntegerField(default=0)
    # Raised by every change of the request or its visits (`request_changed`): a dispatcher's
    # action naming an older version is refused, so two people never overwrite each other.
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tenant", "status"], name="request_tenant_status"),
            # The reconciler scans unassigned requests by age.
            models.Index(
                fields=["created_at"],
                name="request_unassigned_age",
                condition=models.Q(status__in=["new", "rescheduled"]),
            ),
            # Every emergency asks which emergencies already wait for a technician (they queue).
            models.Index(
                fields=["tenant"],
                name="request_emergency_waiting",
                condition=models.Q(kind="emergency", status__in=["assigned", "accepted"]),
            ),
        ]
        constraints = [
            # A window is either fully agreed or not agreed at all, and never empty. Both ends are
            # tested for NULL explicitly: a CHECK passes when its expression is NULL.
            models.CheckConstraint(
                condition=(
                    models.Q(window_start__isnull=True, window_end__isnull=True)
                    | models.Q(
                        window_start__isnull=False,
                        window_end__isnull=False,
                        window_end__gt=models.F("window_start"),
                    )
                ),
                name="request_window_well_formed",
            ),
            models.UniqueConstraint(
                fields=["tenant", "number_in_tenant"], name="request_number_unique_per_tenant"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="request_status_valid"
            ),
            # A place on Earth: the engine ranks technicians by the distance to it, and every
            # event carries it (NaN is greater than any number in PostgreSQL, so it is refused
            # too: a request at NaN could neither be assigned nor escalated).
            models.CheckConstraint(
                condition=models.Q(lat__gte=-90, lat__lte=90, lon__gte=-180, lon__lte=180),
                name="request_coordinates_on_earth",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs) -> None:
        if self._state.adding and self.number_in_tenant is None:
            self.number_in_tenant = next_request_number(self.tenant_id)
        super().save(*args, **kwargs)

    @property
    def number(self) -> str:
        return f"SR-{self.number_in_tenant:06d}" if self.number_in_tenant else "SR-new"


class StatusChange(TenantOwned):
    """One row per transition of a request, written in the same transaction as the change."""

    request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.from_status or '∅'} → {self.to_status}"


class IdempotencyKey(TenantOwned):
    """The first answer to a create call made with an `Idempotency-Key` header. A retry with the
    same key gets this answer again instead of creating a second request."""

    key = models.CharField(max_length=255)
    # A hash of the method, path and body: the same key with another body is a client error.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            # Concurrent retries block on this index until the first one commits.
            models.UniqueConstraint(fields=["tenant", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return self.key
