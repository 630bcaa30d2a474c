"""The contact center's sockets: a visitor's socket hears its own conversation only (any
origin may open it: the token is the key); operators hear their clients' queues and may open a
conversation of those clients only."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from contacts.models import ContactMessage
from contacts.services import contact_create, contact_reply, message_add
from contacts.tokens import visitor_token
from tests.contacts.helpers import operator_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def connect(path: str, user=None, origin=b"http://localhost"):
    communicator = WebsocketCommunicator(application, path, headers=[(b"origin", origin)])
    if user is not None:
        communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    if not connected:
        await communicator.disconnect(timeout=5)
    return communicator, connected


@database_sync_to_async
def chat(tenant):
    contact = contact_create(tenant=tenant, channel="chat", visitor_name="Dana")
    return contact, visitor_token(contact)


@database_sync_to_async
def visitor_writes(contact, body):
    return message_add(contact=contact, direction=ContactMessage.Direction.INBOUND, body=body).seq


@database_sync_to_async
def operator_replies(contact, user, body):
    return contact_reply(contact=contact, author=user, body=body).seq


async def test_a_visitor_hears_the_operators_answer_from_a_client_site_origin(tenant, operator):
    contact, token = await chat(tenant)
    communicator, connected = await connect(
        f"/ws/chat/?token={token}", origin=b"https://www.client-site.example"
    )
    assert connected

    seq = await operator_replies(contact, operator, "Hello!")

    frame = await communicator.receive_json_from(timeout=5)
    assert (frame["type"], frame["seq"], frame["body"]) == ("message", seq, "Hello!")
    await communicator.disconnect()


async def test_a_visitor_never_hears_another_conversation(tenant):
    _mine, token = await chat(tenant)
    other, _ = await chat(tenant)
    communicator, _ = await connect(f"/ws/chat/?token={token}")

    await visitor_writes(other, "not for you")

    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_a_socket_without_a_valid_token_is_refused():
    for path in ("/ws/chat/", "/ws/chat/?token=forged"):
        _communicator, connected = await connect(path)
        assert not connected


async def test_an_operator_hears_the_queue_and_an_opened_conversation(tenant, operator):
    communicator, connected = await connect("/ws/contacts/", operator)
    assert connected

    contact, _ = await chat(tenant)
    event = await communicator.receive_json_from(timeout=5)
    await communicator.send_json_to({"type": "open", "contact": contact.pk})
    opened = await communicator.receive_json_from(timeout=5)
    await visitor_writes(contact, "Hi")
    message = await communicator.receive_json_from(timeout=5)

    assert (event["kind"], event["data"]["id"]) == ("contact.updated", contact.pk)
    assert opened == {"type": "opened", "contact": contact.pk}
    assert (message["type"], message["body"]) == ("message", "Hi")
    await communicator.disconnect()


async def test_an_operator_of_another_client_hears_nothing_and_cannot_open_it(tenant, other_tenant):
    stranger = await database_sync_to_async(operator_of)(other_tenant, username="beta-op")
    communicator, connected = await connect("/ws/contacts/", stranger)
    assert connected

    contact, _ = await chat(tenant)
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.send_json_to({"type": "open", "contact": contact.pk})
    refused = await communicator.receive_json_from(timeout=5)
    await visitor_writes(contact, "Hi")

    assert refused == {"type": "refused", "contact": contact.pk}
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_the_contacts_socket_refuses_technicians_and_strangers(technician):
    user = await database_sync_to_async(lambda: technician.user)()
    for who in (None, user):
        _communicator, connected = await connect("/ws/contacts/", who)
        assert not connected
