"""The one path by which changes reach live screens.

`event_emit` must run inside the transaction that makes the change: it numbers the event under
the tenant row lock (so numbers follow commit order without gaps), stores it, and schedules the
push for after commit. Nothing is pushed for a transaction that rolls back.
"""

import contextlib
import logging
from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import connection, transaction

from core import groups, pusher
from core.models import Event

log = logging.getLogger(__name__)


def _next_seqs(tenant_id: int, count: int) -> range:
    """Take `count` consecutive numbers under the tenant row lock, in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_tenant SET event_seq = event_seq + %s WHERE id = %s "
            "RETURNING event_seq",
            [count, tenant_id],
        )
        last = cursor.fetchone()[0]
    return range(last - count + 1, last + 1)


@dataclass(frozen=True)
class Change:
    kind: str
    payload: dict
    technician_id: int | None = None
    # More audiences than the tenant's dispatchers (groups named by `core.groups`).
    audiences: tuple[str, ...] = ()


_deferred: ContextVar[list | None] = ContextVar("deferred_events", default=None)


@contextlib.contextmanager
def events_deferred():
    """Hold the events of a change made in several steps and emit them together when the block
    ends (inside the transaction): one sequence update, one insert, one push per audience, and
    the tenant's event counter (a row lock until commit) taken last, so other writers of the
    tenant wait for it as briefly as possible."""
    held: list[tuple[int, Change]] = []
    token = _deferred.set(held)
    try:
        yield
    finally:
        _deferred.reset(token)
    by_tenant = defaultdict(list)
    for tenant_id, change in held:
        by_tenant[tenant_id].append(change)
    for tenant_id, changes in by_tenant.items():
        events_emit(tenant_id=tenant_id, changes=changes)


def events_emit(*, tenant_id: int, changes: list[Change]) -> list[Event]:
    """Store and push several changes of one transaction: one sequence update, one insert.
    Inside `events_deferred`, the changes are held for the end of that block (returns [])."""
    if not connection.in_atomic_block:
        raise RuntimeError("event_emit must run inside the transaction that makes the change")
    if not changes:
        return []
    held = _deferred.get()
    if held is not None:
        held.extend((tenant_id, change) for change in changes)
        return []
    seqs = _next_seqs(tenant_id, len(changes))
    events = Event.objects.bulk_create(
        [
            Event(tenant_id=tenant_id, seq=seq, kind=change.kind, payload=change.payload)
            for seq, change in zip(seqs, changes, strict=True)
        ]
    )
    pushes = defaultdict(list)  # audience → its messages, in sequence order
    for event, change in zip(events, changes, strict=True):
        message = event.as_message()
        pushes[groups.dispatchers(tenant_id)].append(message)
        if change.technician_id is not None:
            pushes[groups.technician(change.technician_id)].append(message)
        for audience in change.audiences:
            pushes[audience].append(message)
    transaction.on_commit(lambda: broadcast(dict(pushes)))
    return events


def event_emit(
    *,
    tenant_id: int,
    kind: str,
    payload: dict,
    technician_id: int | None = None,
    audiences: tuple[str, ...] = (),
) -> Event | None:
    """One change; None when it is held by `events_deferred`."""
    change = Change(kind, payload, technician_id, audiences)
    events = events_emit(tenant_id=tenant_id, changes=[change])
    return events[0] if events else None


def conversation_emit(*, contact_id: int, seq: int, message: dict) -> None:
    """A message of one conversation, to its audience only (the visitor's socket and the
    operators who have it open), after commit. Numbered per conversation (`seq`, without gaps):
    a chat screen that sees a gap catches up from the conversation's messages over HTTP. Not
    in the tenant's event log: a visitor never learns anything of the client's other work."""
    if not connection.in_atomic_block:
        raise RuntimeError("conversation_emit must run inside the transaction that makes it")
    push = {"type": "chat.push", "seq": seq, "message": message}
    group = groups.conversation(contact_id)
    transaction.on_commit(lambda: pusher.send([(group, push)]))


def broadcast(pushes: dict[str, list[dict]]) -> None:
    """Ring the doorbell without waiting for it: a background loop sends pushes in order, one
    channel-layer message per audience for all the events of a transaction. A lost push is
    fine: clients see the gap in sequence numbers and resync from the event table."""
    pusher.send(
        [(group, {"type": "events.push", "events": messages}) for group, messages in pushes.items()]
    )
