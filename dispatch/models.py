"""The live event log and the record of every automatic assignment decision."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantOwned


class Event(TenantOwned):
    """A change that screens must see, numbered per tenant without gaps in commit order.

    Written in the same transaction as the change; the WebSocket push after commit is only a
    doorbell. A client that sees a gap in `seq` catches up from this table over HTTP.
    """

    seq = models.BigIntegerField()
    kind = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["tenant", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "seq"], name="event_seq_unique_per_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}#{self.seq} {self.kind}"

    def as_message(self) -> dict:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "at": self.created_at.isoformat() if self.created_at else None,
            "data": self.payload,
        }


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
