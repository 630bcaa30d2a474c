"""What came in through the provider webhooks and the mailbox: one row per accepted message."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InboundMessage(models.Model):
    """An SMS, a keypad choice in a call or an e-mail that was understood and acted upon,
    written in the same transaction as its effect. Its provider id is the replay guard."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        IVR = "ivr", _("IVR")
        EMAIL = "email", _("E-mail")

    class Outcome(models.TextChoices):
        CREATED = "created", _("Request created")
        JOINED = "joined", _("Joined the open request")
        CONFIRMED = "confirmed", _("Visit confirmed")
        CHANGE_LINK = "change_link", _("Link to choose another time sent")
        CANCELLED = "cancelled", _("Visit cancelled")
        TOO_LATE = "too_late", _("Too late to change the visit")
        NO_VISIT = "no_visit", _("No upcoming visit")
        REFERRED = "referred", _("Referred to the portal")
        IGNORED = "ignored", _("Ignored (automatic message)")
        OPERATOR = "operator", _("Passed to an operator")

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    message_id = models.CharField(_("provider message id"), max_length=255)
    tenant = models.ForeignKey(
        "accounts.Tenant",
        verbose_name=_("tenant"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    sender = models.CharField(_("sender"), max_length=254, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    request = models.ForeignKey(
        "requests_app.ServiceRequest",
        verbose_name=_("request"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_messages",
    )

    class Meta:
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        ordering = ["-received_at"]
        constraints = [
            # A provider retrying (or an attacker replaying) a signed message must not create a
            # second request or cancel twice: the second insert fails, and the whole effect with it.
            models.UniqueConstraint(
                fields=["channel", "message_id"], name="inbound_message_once_per_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.message_id} → {self.outcome}"
