"""Tenants (the operator's business clients) and the users who work for them."""

import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Tenant(models.Model):
    """A business client of the operator. Every domain row belongs to exactly one tenant."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Almaty", validators=[validate_time_zone]
    )
    language = models.CharField(_("default language"), max_length=8, default="ru")
    brand_color = models.CharField(_("brand colour"), max_length=7, default="#1f6feb")
    # Default SLA for emergencies, in minutes from creation.
    response_sla_minutes = models.PositiveIntegerField(_("response SLA (minutes)"), default=60)
    restoration_sla_minutes = models.PositiveIntegerField(
        _("restoration SLA (minutes)"), default=240
    )
    window_hours = models.PositiveSmallIntegerField(_("arrival window (hours)"), default=2)
    # How this client's customers write phone numbers without a country code (ISO 3166).
    phone_region = models.CharField(_("phone region"), max_length=2, default="KZ")
    # Planned visits are offered within these local hours; night crews take emergencies only.
    visit_hours_start = models.PositiveSmallIntegerField(
        _("planned visits from (hour)"), default=8, validators=[MaxValueValidator(23)]
    )
    visit_hours_end = models.PositiveSmallIntegerField(
        _("planned visits until (hour)"), default=20, validators=[MaxValueValidator(24)]
    )
    # Intake: how soon and how far ahead a customer may book, and until when they may change it.
    booking_lead_minutes = models.PositiveIntegerField(
        _("earliest booking (minutes ahead)"), default=60
    )
    booking_days_ahead = models.PositiveSmallIntegerField(_("booking horizon (days)"), default=7)
    # Plans aim to arrive this long before a window's end, so ordinary delays keep the promise
    # (dispatch.routes.latest_arrival). 30 min measured in bench/fieldday.py: it costs under
    # 1 % of served jobs on a field day.
    window_margin_minutes = models.PositiveSmallIntegerField(
        _("planning margin before a window ends (minutes)"),
        default=30,
        validators=[MaxValueValidator(120)],
    )
    change_cutoff_hours = models.PositiveSmallIntegerField(
        _("customer changes allowed until (hours before the window)"), default=2
    )
    # Emergencies of one category this close in space and time are one outage (incident).
    outage_radius_m = models.PositiveIntegerField(_("outage radius (metres)"), default=1500)
    outage_window_minutes = models.PositiveIntegerField(
        _("outage time window (minutes)"), default=60
    )
    # Average driving speed and detour factor of the default travel-time model.
    travel_speed_kmh = models.PositiveSmallIntegerField(_("average speed (km/h)"), default=30)
    travel_detour_factor = models.FloatField(_("detour factor"), default=1.3)
    # Last sequence number handed to a live event of this tenant; incremented under the row
    # lock so events are numbered without gaps in commit order.
    event_seq = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Role(models.TextChoices):
    DISPATCHER = "dispatcher", _("Dispatcher")
    TECHNICIAN = "technician", _("Technician")
    MANAGER = "manager", _("Manager")
    OPERATOR = "operator", _("Contact-center operator")
    ADMIN = "admin", _("Administrator")


class User(AbstractUser):
    tenant = models.ForeignKey(
        Tenant,
        verbose_name=_("tenant"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    # Contact-center operators answer for several business clients: their own tenant and these.
    clients = models.ManyToManyField(
        Tenant, verbose_name=_("also answers for"), blank=True, related_name="operators"
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # Every user who acts in the domain belongs to a tenant; only platform staff without a
            # role (superusers running the admin) may have none.
            models.CheckConstraint(
                condition=models.Q(role="") | models.Q(tenant__isnull=False),
                name="user_with_role_has_tenant",
            ),
            # Platform staff belong to no client: a client's administrator is never a superuser.
            models.CheckConstraint(
                condition=models.Q(is_superuser=False) | models.Q(tenant__isnull=True),
                name="superuser_has_no_tenant",
            ),
        ]

    def has_role(self, *roles: str) -> bool:
        return self.is_authenticated and self.tenant_id is not None and self.role in roles


class ContactPoint(models.Model):
    """An address customers reach a tenant at: the number they dial, the e-mail address they
    write to, the SMS short code they text. It tells every channel which client a contact is
    for."""

    class Kind(models.TextChoices):
        PHONE = "phone", _("Phone number")
        EMAIL = "email", _("E-mail address")
        SMS = "sms", _("SMS number or short code")

    class Signature(models.TextChoices):
        HMAC = "hmac", _("HMAC-SHA256 of the body (X-Signature), for custom gateways")
        TWILIO = "twilio", _("Twilio (X-Twilio-Signature)")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    # How the provider that delivers this address's messages signs its webhooks.
    signature = models.CharField(
        _("webhook signature"), max_length=8, choices=Signature.choices, default=Signature.HMAC
    )
    # Stored normalised (digits with a leading + for numbers, lower case for e-mail).
    address = models.CharField(_("address"), max_length=254)

    class Meta:
        verbose_name = _("contact point")
        verbose_name_plural = _("contact points")
        constraints = [
            # One address leads to one tenant, or a contact could land at the wrong client.
            models.UniqueConstraint(fields=["kind", "address"], name="contact_point_unique")
        ]

    def __str__(self) -> str:
        return f"{self.address} → {self.tenant}"
