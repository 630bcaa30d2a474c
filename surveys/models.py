"""Satisfaction surveys sent after each visit (answered by link, kiosk or IVR digits)."""

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantOwned


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Survey(TenantOwned):
    class Channel(models.TextChoices):
        SMS = "sms", _("SMS link")
        EMAIL = "email", _("E-mail link")
        KIOSK = "kiosk", _("Service-point kiosk")
        IVR = "ivr", _("IVR digits")

    visit = models.OneToOneField(
        "technicians.Visit", on_delete=models.CASCADE, related_name="survey"
    )
    # Unguessable token for the customer's link; never derived from the id.
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    score = models.PositiveSmallIntegerField(
        _("score"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    nps = models.PositiveSmallIntegerField(
        _("likelihood to recommend (0–10)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(10)],
    )
    comment = models.TextField(_("comment"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=1, score__lte=5),
                name="survey_score_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.visit} ({self.score or '–'})"
