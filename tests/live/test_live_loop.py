"""The whole loop through real processes: HTTP POST → commit → Celery worker assigns →
the event reaches a dispatcher's WebSocket on a real ASGI server."""

import asyncio
import json
import urllib.request

import pytest
import websockets
from django.test import Client
from knox.models import AuthToken

from devtools.devstack import free_port
from tests.live import stack

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_server_processes():
    env = stack.environment()
    port = free_port()
    asgi = stack.start_asgi(port, env)
    worker = stack.start_worker(env)
    yield port
    stack.stop(worker)
    stack.stop(asgi)
    stack.close_other_sessions()


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def post_json(url: str, body: dict, token: str) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


async def wait_for_assignment(port, cookie, create, timeout=30.0):
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/ws/dispatch/",
        additional_headers={"Cookie": f"sessionid={cookie}", "Origin": "http://localhost"},
    ) as socket:
        created = await asyncio.to_thread(create)
        async with asyncio.timeout(timeout):
            async for raw in socket:
                message = json.loads(raw)
                data = message.get("data", {})
                if data.get("id") == created["id"] and data.get("status") == "assigned":
                    return created, message


def test_an_emergency_posted_over_http_is_assigned_and_pushed_to_the_dispatcher(
    live_server_processes, dispatcher, technician, customer
):
    port = live_server_processes
    token = AuthToken.objects.create(dispatcher)[1]
    cookie = session_cookie(dispatcher)

    def create():
        return post_json(
            f"http://127.0.0.1:{port}/api/v1/requests/",
            {"kind": "emergency", "category": "outage", "customer": customer.pk},
            token,
        )

    _created, message = asyncio.run(wait_for_assignment(port, cookie, create))

    assert message["type"] == "event"
    assert message["data"]["visit"]["technician_id"] == technician.pk
    assert message["seq"] > 0
