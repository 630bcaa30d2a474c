"""The contact center: every inbound contact of every channel is one `Contact` in one queue,
with its conversation (`ContactMessage`) and its status changes (`ContactChange`); operators
have a profile (languages, presence); each client has its contact-center settings (the
first-response SLA, the web chat's key and hours)."""

import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantOwned

LANGUAGES = ("en", "ru", "kk")


def new_public_key() -> str:
    return "pk_" + secrets.token_urlsafe(18)


def new_visitor_key() -> str:
    return secrets.token_urlsafe(18)


def _upload_to(instance, filename: str) -> str:
    # A random name: a file's address tells nothing about the client or the customer.
    extension = filename.rpartition(".")[2].lower() or "bin"
    return f"contacts/{instance.tenant_id}/{uuid.uuid4().hex}.{extension}"


class ContactSettings(TenantOwned):
    """One client's contact-center rules. Missing, the defaults apply (`settings_for`)."""

    first_response_minutes = models.PositiveIntegerField(
        _("first response within (minutes)"), default=60
    )
    chat_first_response_minutes = models.PositiveIntegerField(
        _("first chat response within (minutes)"), default=2
    )
    # The key a client's web page names in the widget's script tag; public, and tells nothing.
    chat_public_key = models.CharField(
        _("chat widget key"), max_length=40, unique=True, default=new_public_key
    )
    chat_enabled = models.BooleanField(_("web chat enabled"), default=True)
    # Operators answer chats within these local hours; outside, the widget takes a message.
    chat_hours_start = models.PositiveSmallIntegerField(_("chat from (hour)"), default=9)
    chat_hours_end = models.PositiveSmallIntegerField(_("chat until (hour)"), default=18)
    # Outbound campaigns stay silent in these local hours.
    quiet_start_hour = models.PositiveSmallIntegerField(_("quiet hours from"), default=21)
    quiet_end_hour = models.PositiveSmallIntegerField(_("quiet hours until"), default=9)

    class Meta:
        verbose_name = _("contact-center settings")
        verbose_name_plural = _("contact-center settings")
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="contact_settings_once_per_tenant"),
            # Hours of a day: a typo must not make chat "always closed" in a silent way.
            models.CheckConstraint(
                condition=Q(chat_hours_start__lte=23)
                & Q(chat_hours_end__lte=24)
                & Q(quiet_start_hour__lte=23)
                & Q(quiet_end_hour__lte=23),
                name="contact_settings_hours_valid",
            ),
        ]

    def __str__(self) -> str:
        return str(self.tenant)


class OperatorProfile(TenantOwned):
    """What an operator serves beside their clients (`User.clients`): the languages they
    answer in, and whether they are taking contacts now."""

    class Presence(models.TextChoices):
        AVAILABLE = "available", _("Available")
        BUSY = "busy", _("Busy")
        AWAY = "away", _("Away")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="operator_profile"
    )
    languages = ArrayField(
        models.CharField(max_length=8), verbose_name=_("languages"), default=list, blank=True
    )
    presence = models.CharField(
        _("presence"), max_length=10, choices=Presence.choices, default=Presence.AWAY
    )
    presence_changed_at = models.DateTimeField(_("presence since"), null=True, blank=True)

    class Meta:
        verbose_name = _("operator profile")
        verbose_name_plural = _("operator profiles")

    def __str__(self) -> str:
        return str(self.user)


class Contact(TenantOwned):
    """One contact of a customer (or a visitor not yet known) with a client, whatever the
    channel: the unit operators take, answer and close."""

    class Channel(models.TextChoices):
        CHAT = "chat", _("Web chat")
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        PORTAL = "portal", _("Portal message")
        IVR_CALLBACK = "ivr_callback", _("IVR call-back request")
        FAX = "fax", _("Fax")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING = "waiting_for_customer", _("Waiting for the customer")
        DONE = "done", _("Done")

    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.NEW
    )
    # 1 is the most urgent (as a request's priority).
    priority = models.PositiveSmallIntegerField(_("priority"), default=3)
    language = models.CharField(_("language"), max_length=8, blank=True)
    customer = models.ForeignKey(
        "requests_app.Customer",
        verbose_name=_("customer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
    )
    # Who wrote: a phone number, an e-mail address, or the name a chat visitor gave.
    sender = models.CharField(_("from"), max_length=254, blank=True)
    visitor_name = models.CharField(_("visitor's name"), max_length=80, blank=True)
    # Where an answer goes when the visitor has left (a chat taken outside chat hours).
    reply_to = models.CharField(_("answer to"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    # A chat left outside chat hours: answered later by e-mail or SMS.
    offline = models.BooleanField(_("left outside chat hours"), default=False)
    sla_due = models.DateTimeField(_("first response due"))
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    request = models.ForeignKey(
        "requests_app.ServiceRequest",
        verbose_name=_("request"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
    )
    # Signs a chat visitor's token (with the contact's id): a token for one conversation only.
    visitor_key = models.CharField(max_length=32, default=new_visitor_key, editable=False)
    # The last message's number in this conversation (messages are numbered 1, 2, … under the
    # contact's row lock, so a chat screen notices a missed push and catches up).
    message_seq = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    taken_at = models.DateTimeField(_("taken"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["sla_due", "priority", "pk"]
        indexes = [
            # "Take next" and the queues read the open contacts by urgency: walked in this
            # order, a queue of several clients stops at its page instead of sorting them all.
            models.Index(
                fields=["sla_due", "priority", "id"],
                name="contact_open_by_urgency",
                condition=~Q(status="done"),
            ),
            # A sender's open contact of a channel, which the next message joins.
            models.Index(
                fields=["tenant", "channel", "sender"],
                name="contact_open_by_sender",
                condition=~Q(status="done"),
            ),
        ]
        constraints = [
            # A contact is done exactly when it has a time it was done at (the KPIs read it).
            models.CheckConstraint(
                condition=Q(status="done", done_at__isnull=False)
                | (~Q(status="done") & Q(done_at__isnull=True)),
                name="contact_done_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"C-{self.pk} {self.get_channel_display()}"

    @property
    def number(self) -> str:
        return f"C-{self.pk:06d}" if self.pk else "C-new"


class ContactMessage(TenantOwned):
    """One message of a contact's conversation: from the customer, to the customer, or a note
    operators keep among themselves."""

    class Direction(models.TextChoices):
        INBOUND = "in", _("From the customer")
        OUTBOUND = "out", _("To the customer")
        NOTE = "note", _("Internal note")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    direction = models.CharField(_("direction"), max_length=4, choices=Direction.choices)
    body = models.TextField(_("message"), blank=True)
    attachment = models.FileField(_("attachment"), upload_to=_upload_to, blank=True)
    attachment_type = models.CharField(max_length=60, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact message")
        verbose_name_plural = _("contact messages")
        ordering = ["contact", "seq"]
        constraints = [
            # Numbered without repeats: a screen detects a missed message by a gap.
            models.UniqueConstraint(fields=["contact", "seq"], name="contact_message_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.contact_id}#{self.seq} {self.direction}"


class ContactChange(TenantOwned):
    """One row per status or assignment change of a contact, written with the change: the
    handling times are read from these."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="changes")
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("contact change")
        verbose_name_plural = _("contact changes")
        ordering = ["created_at", "pk"]


class Campaign(TenantOwned):
    """An outbound SMS or e-mail campaign on a client's behalf to its customers, sent through
    the notification outbox in the client's name, never to those who opted out, never in the
    client's quiet hours."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")

    name = models.CharField(_("name"), max_length=120)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("outbound campaign")
        verbose_name_plural = _("outbound campaigns")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class CampaignMessage(TenantOwned):
    """One customer of a campaign: sent, waiting for quiet hours to end, or skipped and why."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Waiting for the end of quiet hours")
        SENT = "sent", _("Handed to the outbox")
        SKIPPED = "skipped", _("Skipped")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages")
    customer = models.ForeignKey(
        "requests_app.Customer", on_delete=models.CASCADE, related_name="+"
    )
    recipient = models.CharField(max_length=254, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    skip_reason = models.CharField(max_length=20, blank=True)
    send_after = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("campaign message")
        verbose_name_plural = _("campaign messages")
        constraints = [
            # A customer hears a campaign once, however often it is launched or retried.
            models.UniqueConstraint(
                fields=["campaign", "customer"], name="campaign_message_once_per_customer"
            )
        ]
        indexes = [
            models.Index(
                fields=["send_after"],
                name="campaign_message_due",
                condition=Q(status="scheduled"),
            )
        ]
