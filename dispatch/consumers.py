"""WebSocket consumers: authenticate, authorize the group, forward events. No database writes."""

import json
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer

from accounts.models import Role, Tenant
from accounts.permissions import STAFF_ROLES
from core import groups
from core.observability import socket_closed, socket_opened
from core.tenancy import tenant_scope
from technicians.models import Technician

# Close codes the pages know: not allowed, signed out, no such socket.
FORBIDDEN, SIGNED_OUT, NOT_FOUND = 4403, 4401, 4404


class EventConsumer(AsyncJsonWebsocketConsumer):
    kind: str  # who holds the socket, for the open sockets' gauge
    group: str | None = None
    session_group: str | None = None

    async def connect(self):
        self.group = await self.authorized_group(self.scope.get("user"))
        if self.group is None:
            await self.close(code=FORBIDDEN)
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        # Signing out of the session closes this socket (see core.pusher.on_logout).
        session_key = getattr(self.scope.get("session"), "session_key", None)
        if session_key:
            self.session_group = groups.session(session_key)
            await self.channel_layer.group_add(self.session_group, self.channel_name)
        await self.accept()
        socket_opened(self.kind)

    async def disconnect(self, code):
        if self.group is not None:  # accepted, and not closed yet (session_ended closes first)
            socket_closed(self.kind)
        for group in (self.group, self.session_group):
            if group is not None:
                await self.channel_layer.group_discard(group, self.channel_name)

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return json.loads(text_data)
        except ValueError:
            return None  # a frame that is not JSON is ignored, not a crash

    async def receive_json(self, content, **kwargs):
        # Commands go through the HTTP API; the socket answers pings with the head of the
        # tenant's event sequence, so a screen that missed a push notices it and catches up.
        if isinstance(content, dict) and content.get("type") == "ping":
            user = self.scope["user"]
            await self.send_json({"type": "pong", "seq": await database_sync_to_async(_head)(user)})

    async def events_push(self, message):
        """The events of one transaction, in sequence order: one frame each."""
        for event in message["events"]:
            await self.send_json({"type": "event", **event})

    async def session_ended(self, message):
        await self.disconnect(SIGNED_OUT)  # out of the groups at once: not one more event
        self.group = self.session_group = None
        await self.close(code=SIGNED_OUT)

    async def authorized_group(self, user) -> str | None:
        raise NotImplementedError


class DispatcherConsumer(EventConsumer):
    """Every change of the user's tenant, for dispatchers, managers and operators; and where the
    other dispatchers are (which job each looks at or drags), passed on and never stored."""

    kind = "dispatcher"
    PRESENCE_STATES = ("viewing", "dragging")
    PRESENCE_PER_10_S = 20  # a board says where it is every few seconds: more is abuse, dropped

    async def authorized_group(self, user) -> str | None:
        if user is None or not user.is_authenticated or not user.has_role(*STAFF_ROLES):
            return None
        return groups.dispatchers(user.tenant_id)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "presence":
            await self.presence(content)
        else:
            await super().receive_json(content, **kwargs)

    async def presence(self, content: dict) -> None:
        request, state = content.get("request"), content.get("state")
        if request is not None and (type(request) is not int or not 0 < request < 2**31):
            return
        if state not in self.PRESENCE_STATES or not self._presence_allowed():
            return
        user = self.scope["user"]
        await self.channel_layer.group_send(
            self.group,
            {
                "type": "presence.relay",
                "sender": self.channel_name,
                "user_id": user.pk,
                "name": user.get_full_name() or user.username,
                "request": request,
                "state": state,
            },
        )

    def _presence_allowed(self) -> bool:
        now = time.monotonic()
        recent = [at for at in getattr(self, "_presence_at", []) if now - at < 10]
        self._presence_at = [*recent, now]
        return len(recent) < self.PRESENCE_PER_10_S

    async def presence_relay(self, message):
        if message["sender"] == self.channel_name:  # a board knows where it is itself
            return
        relayed = ("user_id", "name", "request", "state")
        await self.send_json({"type": "presence", **{key: message[key] for key in relayed}})


class TechnicianConsumer(EventConsumer):
    """Changes to the signed-in technician's own jobs."""

    kind = "technician"

    async def authorized_group(self, user) -> str | None:
        if user is None or not user.is_authenticated or not user.has_role(Role.TECHNICIAN):
            return None
        technician_id = await database_sync_to_async(_technician_id)(user)
        return groups.technician(technician_id) if technician_id else None


def _head(user) -> int:
    """The last sequence number of the user's tenant's events."""
    with tenant_scope([user.tenant_id]):
        head = Tenant.objects.filter(pk=user.tenant_id).values_list("event_seq", flat=True)
        return head.first() or 0


def _technician_id(user) -> int | None:
    with tenant_scope([user.tenant_id]):  # a socket's reads are in its user's scope too
        return (
            Technician.objects.filter(user=user, tenant_id=user.tenant_id)
            .values_list("pk", flat=True)
            .first()
        )


class NoSuchSocket(AsyncWebsocketConsumer):
    """Any other path under /ws/: refused with a close code, not a server error."""

    async def connect(self):
        await self.close(code=NOT_FOUND)
