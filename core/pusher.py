"""The background sender of channel-layer messages: live pushes, and closing a signed-out
session's sockets. One event loop thread per process, so a web request or a task never waits
for Redis; what cannot be sent is logged (screens catch up from the event table)."""

import asyncio
import logging
import os
import threading

from channels.layers import get_channel_layer

from core import groups

log = logging.getLogger(__name__)


def send(sends: list[tuple[str, dict]]) -> None:
    """Channel-layer messages, each (group, message), sent in this order without waiting."""
    _pusher().submit(sends)


def sockets_close(*, session_key: str) -> None:
    """Close the live sockets a browser session opened (on logout): they must not go on
    receiving a signed-out user's tenant's events. Sent like the pushes, without waiting."""
    send([(groups.session(session_key), {"type": "session.ended"})])


def on_logout(sender, request, user, **kwargs) -> None:
    """Receiver of `user_logged_out` (connected in `core.apps`)."""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        sockets_close(session_key=session_key)


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

    def submit(self, sends: list[tuple[str, dict]]) -> None:
        """Channel-layer messages, each (group, message), sent in this order."""
        self.loop.call_soon_threadsafe(self.queue.put_nowait, sends)

    async def _drain(self) -> None:
        while True:
            sends = await self.queue.get()
            layer = get_channel_layer()
            if layer is None:
                continue
            for group, message in sends:
                try:
                    await layer.group_send(group, message)
                except Exception:  # the change is committed; pushing is best effort
                    log.exception("push of %s to %s failed", message["type"], group)


_pushers: dict[int, _Pusher] = {}
_lock = threading.Lock()


def _pusher() -> _Pusher:
    # Per process id: a Celery prefork child must not reuse its parent's thread.
    pid = os.getpid()
    with _lock:
        if pid not in _pushers:
            _pushers[pid] = _Pusher()
        return _pushers[pid]
