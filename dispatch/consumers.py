"""WebSocket consumers: authenticate, authorize the group, forward events. No database writes."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.models import Role
from accounts.permissions import STAFF_ROLES
from core import groups
from technicians.models import Technician


class EventConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self):
        self.group = await self.authorized_group(self.scope.get("user"))
        if self.group is None:
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # Commands go through the HTTP API; the socket only answers pings.
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def events_push(self, message):
        """The events of one transaction, in sequence order: one frame each."""
        for event in message["events"]:
            await self.send_json({"type": "event", **event})

    async def authorized_group(self, user) -> str | None:
        raise NotImplementedError


class DispatcherConsumer(EventConsumer):
    """Every change of the user's tenant, for dispatchers, managers and operators."""

    async def authorized_group(self, user) -> str | None:
        if user is None or not user.is_authenticated or not user.has_role(*STAFF_ROLES):
            return None
        return groups.dispatchers(user.tenant_id)


class TechnicianConsumer(EventConsumer):
    """Changes to the signed-in technician's own jobs."""

    async def authorized_group(self, user) -> str | None:
        if user is None or not user.is_authenticated or not user.has_role(Role.TECHNICIAN):
            return None
        technician_id = await database_sync_to_async(
            lambda: (
                Technician.objects.filter(user=user, tenant_id=user.tenant_id)
                .values_list("pk", flat=True)
                .first()
            )
        )()
        return groups.technician(technician_id) if technician_id else None
