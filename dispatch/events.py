"""The one path by which changes reach live screens.

`event_emit` must run inside the transaction that makes the change: it numbers the event under
the tenant row lock (so numbers follow commit order without gaps), stores it, and schedules the
push for after commit. Nothing is pushed for a transaction that rolls back.
"""

import asyncio
import logging
import os
import threading

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
