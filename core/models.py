"""The live event log: every change screens must see, numbered per tenant."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantOwned
from core.db import Constraint


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
        # Moved here from the dispatch app; the table keeps its name.
        db_table = "dispatch_event"
        ordering = ["tenant", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "seq"], name=Constraint.EVENT_SEQ_UNIQUE)
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
