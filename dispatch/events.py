"""The one path by which changes reach live screens.

`event_emit` must run inside the transaction that makes the change: it numbers the event under
the tenant row lock (so numbers follow commit order without gaps), stores it, and schedules the
push for after commit. Nothing is pushed for a transaction that rolls back.
"""

import asyncio
import logging
import os
import threading
from dataclasses import dataclass

from channels.layers import get_channel_layer
from django.db import connection, transaction

from dispatch import groups
from dispatch.models import Event

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


def events_emit(*, tenant_id: int, changes: list[Change]) -> list[Event]:
    """Store and push several changes of one transaction: one sequence update, one insert."""
    if not connection.in_atomic_block:
        raise RuntimeError("event_emit must run inside the transaction that makes the change")
    if not changes:
        return []
    seqs = _next_seqs(tenant_id, len(changes))
    events = Event.objects.bulk_create(
        [
            Event(tenant_id=tenant_id, seq=seq, kind=change.kind, payload=change.payload)
            for seq, change in zip(seqs, changes, strict=True)
        ]
    )
    for event, change in zip(events, changes, strict=True):
        audiences = [groups.dispatchers(tenant_id)]
        if change.technician_id is not None:
            audiences.append(groups.technician(change.technician_id))
        message = event.as_message()
        transaction.on_commit(lambda m=message, a=audiences: broadcast(m, a))
    return events


def event_emit(
    *, tenant_id: int, kind: str, payload: dict, technician_id: int | None = None
) -> Event:
    [event] = events_emit(tenant_id=tenant_id, changes=[Change(kind, payload, technician_id)])
    return event


def broadcast(message: dict, audiences: list[str]) -> None:
    """Ring the doorbell without waiting for it: a background loop sends pushes in order. A lost
    push is fine: clients see the gap in sequence numbers and resync from the event table."""
    _pusher().submit(message, audiences)


class _Pusher:
    """One event loop thread per process, draining an ordered queue of pushes."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.queue: asyncio.Queue | None = None
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True, name="pusher").start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.queue = asyncio.Queue()
        self.loop.create_task(self._drain())
        ready.set()
        self.loop.run_forever()

    def submit(self, message: dict, audiences: list[str]) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, (message, audiences))

    async def _drain(self) -> None:
        while True:
            message, audiences = await self.queue.get()
            layer = get_channel_layer()
            if layer is None:
                continue
            try:
                for group in audiences:
                    await layer.group_send(group, {"type": "event.push", "event": message})
            except Exception:  # the change is committed; pushing is best effort
                log.exception("broadcast of event %s failed", message.get("seq"))


_pushers: dict[int, _Pusher] = {}
_lock = threading.Lock()


def _pusher() -> _Pusher:
    # Per process id: a Celery prefork child must not reuse its parent's thread.
    pid = os.getpid()
    with _lock:
        if pid not in _pushers:
            _pushers[pid] = _Pusher()
        return _pushers[pid]
