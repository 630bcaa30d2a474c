"""The contact center's sockets. Thin: authenticate, authorize each group joined, forward.
Nothing is written here: messages are sent through the HTTP endpoints.

- `ContactCenterConsumer` (`/ws/contacts/`): operators and supervisors hear the queue changes of
  each client they answer for, and may open a conversation of one of those clients' contacts.
- `VisitorConsumer` (`/ws/chat/?token=…`): a web-chat visitor hears their own conversation and
  nothing else; the token names it, and no frame the visitor sends can change the group.
"""

import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from contacts.selectors import CONTACT_ROLES, contacts_for_user, served_tenant_ids
from contacts.tokens import contact_for_token
from core import groups
from core.observability import socket_closed, socket_opened
from core.tenancy import tenant_scope

FORBIDDEN, SIGNED_OUT = 4403, 4401


class _Json(AsyncJsonWebsocketConsumer):
    @classmethod
    async def decode_json(cls, text_data):
        try:
            return json.loads(text_data)
        except ValueError:
            return None  # a frame that is not JSON is ignored, not a crash

    async def chat_push(self, message):
        await self.send_json({"type": "message", "seq": message["seq"], **message["message"]})


class ContactCenterConsumer(_Json):
    kind = "contacts"
    joined: list[str]

    async def connect(self):
        self.joined = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.has_role(*CONTACT_ROLES):
            await self.close(code=FORBIDDEN)
            return
        tenant_ids = await database_sync_to_async(_served)(user)
        session_key = getattr(self.scope.get("session"), "session_key", None)
        names = [groups.contact_center(tenant_id) for tenant_id in tenant_ids]
        if session_key:  # signing out closes this socket (core.pusher.on_logout)
            names.append(groups.session(session_key))
        for name in names:
            await self._join(name)
        await self.accept()
        socket_opened(self.kind)

    async def _join(self, name: str) -> None:
        await self.channel_layer.group_add(name, self.channel_name)
        self.joined.append(name)

    async def disconnect(self, code):
        if self.joined:
            socket_closed(self.kind)
        for name in self.joined:
            await self.channel_layer.group_discard(name, self.channel_name)
        self.joined = []

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            return
        if content.get("type") == "open":
            contact_id = content.get("contact")
            if type(contact_id) is not int or not 0 < contact_id < 2**63:
                return
            user = self.scope["user"]
            if await database_sync_to_async(_may_open)(user, contact_id):
                await self._join(groups.conversation(contact_id))
                await self.send_json({"type": "opened", "contact": contact_id})
            else:
                await self.send_json({"type": "refused", "contact": contact_id})

    async def events_push(self, message):
        for event in message["events"]:
            if event["kind"].startswith("contact."):
                await self.send_json({"type": "event", **event})

    async def session_ended(self, message):
        await self.disconnect(SIGNED_OUT)
        await self.close(code=SIGNED_OUT)


class VisitorConsumer(_Json):
    """A web-chat visitor's socket: one conversation's group, named by the signed token."""

    kind = "visitor"
    group: str | None = None

    async def connect(self):
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("token") or [""])[0]
        contact_id = await database_sync_to_async(_conversation)(token)
        if contact_id is None:
            await self.close(code=FORBIDDEN)
            return
        self.group = groups.conversation(contact_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        socket_opened(self.kind)

    async def disconnect(self, code):
        if self.group is not None:
            socket_closed(self.kind)
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None

    async def receive_json(self, content, **kwargs):
        # Only a heartbeat: messages go through the HTTP endpoint (rate limited, checked).
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})


def _served(user) -> list[int]:
    with tenant_scope([user.tenant_id]):
        return served_tenant_ids(user)


def _may_open(user, contact_id: int) -> bool:
    tenant_ids = _served(user)
    with tenant_scope(tenant_ids):
        return contacts_for_user(user).filter(pk=contact_id).exists()


def _conversation(token: str) -> int | None:
    contact = contact_for_token(token)
    return contact.pk if contact is not None else None
