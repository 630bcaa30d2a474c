"""The one path by which changes reach live screens.

`event_emit` must run inside the transaction that makes the change: it numbers the event under
the tenant row lock (so numbers follow commit order without gaps), stores it, and schedules the
push for after commit. Nothing is pushed for a transaction that rolls back.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

from dispatch import groups
from dispatch.models import Event

log = logging.getLogger(__name__)


def _next_seq(tenant_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_tenant SET event_seq = event_seq + 1 WHERE id = %s "
            "RETURNING event_seq",
            [tenant_id],
        )
        return cursor.fetchone()[0]


def event_emit(
    *, tenant_id: int, kind: str, payload: dict, technician_id: int | None = None
) -> Event:
    if not connection.in_atomic_block:
        raise RuntimeError("event_emit must run inside the transaction that makes the change")
    event = Event.objects.create(
        tenant_id=tenant_id, seq=_next_seq(tenant_id), kind=kind, payload=payload
    )
    audiences = [groups.dispatchers(tenant_id)]
    if technician_id is not None:
        audiences.append(groups.technician(technician_id))
    transaction.on_commit(lambda: broadcast(event.as_message(), audiences))
    return event


def broadcast(message: dict, audiences: list[str]) -> None:
    """Ring the doorbell. A lost push is fine: clients resync from the event table."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        for group in audiences:
            async_to_sync(layer.group_send)(group, {"type": "event.push", "event": message})
    except Exception:  # the change is committed; a failed push must not fail the caller
        log.exception("broadcast of event %s failed", message.get("seq"))
