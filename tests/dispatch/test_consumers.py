"""WebSocket consumers: who may join which group, and that pushes arrive."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from config.asgi import application, websockets
from core.events import event_emit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def connect(path: str, user=None) -> tuple[WebsocketCommunicator, bool]:
    communicator = WebsocketCommunicator(
        application, path, headers=[(b"origin", b"http://localhost")]
    )
    if user is not None:
        communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    if not connected:
        # A refused consumer still waits for the client to go: tell it so, and it ends by itself
        # while the loop is alive. Left to a timeout, it is cancelled instead, and cancelling its
        # channel-layer read could wait for ever (two CI runs hung here for 300 s).
        await communicator.disconnect(timeout=5)
    return communicator, connected


@database_sync_to_async
def emit(tenant_id: int, technician_id: int | None = None) -> int:
    with transaction.atomic():
        return event_emit(
            tenant_id=tenant_id,
            kind="request.updated",
            payload={"id": 1},
            technician_id=technician_id,
        ).seq


async def test_a_dispatcher_receives_the_events_of_their_tenant(dispatcher):
    communicator, connected = await connect("/ws/dispatch/", dispatcher)
    assert connected
    seq = await emit(dispatcher.tenant_id)
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "event"
    assert message["seq"] == seq
    assert message["kind"] == "request.updated"
    await communicator.disconnect()


async def test_a_dispatcher_never_receives_another_tenants_events(dispatcher, other_tenant):
    communicator, _ = await connect("/ws/dispatch/", dispatcher)
    await emit(other_tenant.pk)
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_an_anonymous_socket_is_refused():
    _communicator, connected = await connect("/ws/dispatch/")
    assert not connected


async def test_a_technician_cannot_join_the_dispatcher_feed(technician):
    user = await database_sync_to_async(lambda: technician.user)()
    _communicator, connected = await connect("/ws/dispatch/", user)
    assert not connected


async def test_a_technician_hears_about_their_own_jobs_only(technician, other_technician):
    user = await database_sync_to_async(lambda: technician.user)()
    communicator, connected = await connect("/ws/technician/", user)
    assert connected
    await emit(technician.tenant_id, technician_id=other_technician.pk)
    assert await communicator.receive_nothing(timeout=0.5)
    seq = await emit(technician.tenant_id, technician_id=technician.pk)
    assert (await communicator.receive_json_from(timeout=5))["seq"] == seq
    await communicator.disconnect()


async def test_a_socket_from_a_foreign_origin_is_refused(dispatcher):
    communicator = WebsocketCommunicator(
        application, "/ws/dispatch/", headers=[(b"origin", b"https://evil.example")]
    )
    communicator.scope["user"] = dispatcher
    connected, _ = await communicator.connect()
    assert not connected


async def test_a_quiet_socket_stays_open_and_still_receives(dispatcher):
    """Regression: the layer's 5 s blocking read used to hit redis-py's 5 s socket timeout."""
    import asyncio

    communicator, _ = await connect("/ws/dispatch/", dispatcher)
    await asyncio.sleep(6.5)
    seq = await emit(dispatcher.tenant_id)
    assert (await communicator.receive_json_from(timeout=5))["seq"] == seq
    await communicator.disconnect()


async def test_logging_out_closes_the_sockets_the_session_opened(dispatcher):
    browser = Client()
    await database_sync_to_async(browser.force_login)(dispatcher)
    cookie = f"sessionid={browser.cookies['sessionid'].value}".encode()
    communicator = WebsocketCommunicator(
        application,
        "/ws/dispatch/",
        headers=[(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie)],
    )
    connected, _ = await communicator.connect()
    assert connected

    await database_sync_to_async(browser.post)("/accounts/logout/")

    assert (await communicator.receive_output(timeout=5))["code"] == 4401
    await emit(dispatcher.tenant_id)
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_a_path_with_no_socket_is_refused_with_a_code_not_a_crash(dispatcher):
    _communicator, connected = await connect("/ws/dispatch/1/", dispatcher)

    assert not connected


async def test_a_frame_that_is_not_json_is_ignored(dispatcher):
    communicator, _ = await connect("/ws/dispatch/", dispatcher)

    await communicator.send_to(text_data="this is not json {")
    await communicator.send_json_to({"type": "ping"})

    assert (await communicator.receive_json_from(timeout=5))["type"] == "pong"
    await communicator.disconnect()


async def test_a_ping_is_answered_with_the_head_of_the_tenants_events(dispatcher, other_tenant):
    """A screen whose last push was lost learns from its heartbeat that it is behind."""
    seq = await emit(dispatcher.tenant_id)
    await emit(other_tenant.pk)
    communicator, _ = await connect("/ws/dispatch/", dispatcher)

    await communicator.send_json_to({"type": "ping"})

    assert await communicator.receive_json_from(timeout=5) == {"type": "pong", "seq": seq}
    await communicator.disconnect()


async def test_presence_reaches_the_other_dispatchers_of_the_tenant_only(
    dispatcher, manager, other_dispatcher
):
    looking, _ = await connect("/ws/dispatch/", dispatcher)
    colleague, _ = await connect("/ws/dispatch/", manager)
    stranger, _ = await connect("/ws/dispatch/", other_dispatcher)

    await looking.send_json_to({"type": "presence", "request": 42, "state": "dragging"})

    heard = await colleague.receive_json_from(timeout=5)
    assert heard == {
        "type": "presence",
        "user_id": dispatcher.pk,
        "name": dispatcher.get_full_name() or dispatcher.username,
        "request": 42,
        "state": "dragging",
    }
    assert await looking.receive_nothing(timeout=0.3)  # a board knows where it is itself
    assert await stranger.receive_nothing(timeout=0.3)
    for communicator in (looking, colleague, stranger):
        await communicator.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "presence", "request": "42; drop", "state": "viewing"},
        {"type": "presence", "request": 42, "state": "owning"},
        {"type": "presence", "request": 2**40, "state": "viewing"},
        {"type": "presence", "request": True, "state": "viewing"},
    ],
)
async def test_a_malformed_presence_frame_goes_nowhere(dispatcher, manager, frame):
    looking, _ = await connect("/ws/dispatch/", dispatcher)
    colleague, _ = await connect("/ws/dispatch/", manager)

    await looking.send_json_to(frame)

    assert await colleague.receive_nothing(timeout=0.3)
    for communicator in (looking, colleague):
        await communicator.disconnect()


async def test_a_flood_of_presence_frames_is_cut_off(dispatcher, manager):
    looking, _ = await connect("/ws/dispatch/", dispatcher)
    colleague, _ = await connect("/ws/dispatch/", manager)

    for n in range(50):
        await looking.send_json_to({"type": "presence", "request": n + 1, "state": "viewing"})

    heard = 0
    while not await colleague.receive_nothing(timeout=0.3):
        await colleague.receive_json_from(timeout=1)
        heard += 1
    assert heard == 20
    for communicator in (looking, colleague):
        await communicator.disconnect()


@pytest.mark.parametrize(
    ("origin", "opens"),
    [
        (b"https://dispatch.example.com", True),
        (b"http://dispatch.example.com", False),  # another scheme
        (b"https://dispatch.example.com:8443", False),  # another port
        (b"https://evil.example.net", False),
    ],
)
async def test_only_pages_of_the_allowed_origins_open_a_socket(dispatcher, origin, opens):
    communicator = WebsocketCommunicator(
        websockets(["https://dispatch.example.com"]), "/ws/dispatch/", headers=[(b"origin", origin)]
    )
    communicator.scope["user"] = dispatcher
    connected, _ = await communicator.connect()

    assert connected is opens
    await communicator.disconnect()
