"""The record of every automatic assignment decision."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantOwned


class Decision(TenantOwned):
    """Why the engine chose a technician: ranked candidates and the ones it excluded."""

    request = models.ForeignKey(
        "requests_app.ServiceRequest", on_delete=models.CASCADE, related_name="decisions"
    )
    technician = models.ForeignKey(
        "technicians.Technician",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    policy = models.CharField(max_length=40)
    outcome = models.CharField(max_length=20)
    candidates = models.JSONField(default=list)
    excluded = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("assignment decision")
        verbose_name_plural = _("assignment decisions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.outcome}"
