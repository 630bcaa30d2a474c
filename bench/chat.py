"""The web chat under load (`make bench-chat`): concurrent conversations and the operator's queue.

1. **Message delivery**: 200 conversations at once, each a visitor's socket (`/ws/chat/`) and an
   operator's socket that opened it (`/ws/contacts/`, ten operators with twenty conversations
   each). Each conversation exchanges a message every few seconds, alternately from the visitor
   (`POST /chat/api/messages/`) and from the operator (`POST /api/v1/contacts/{id}/reply/`); a
   message's delivery is the time from the start of its POST to its frame on the other side's
   socket (a message that never arrives counts as infinitely late). Baseline, in the same run:
   a bare `group_send` of a frame of the same size from this process to the same sockets
   (Redis and uvicorn alone).
2. **The operator's queue** with 5,000 open contacts of two clients (the operator answers for
   both): `GET /api/v1/contacts/` (the 200 most urgent) and the queue page `/contacts/`, against
   the smallest authenticated DRF read (`GET /bench/bare/list/`) on the same gunicorn.

Targets (issue 16): `message_p99_ms` ≤ 200, `queue_load_ms` p99 ≤ 300.
Writes bench/results/chat.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import secrets
import tempfile
import time
from datetime import timedelta
from importlib import import_module
from pathlib import Path

import aiohttp

from bench.emergency_loop import (
    Stack,
    bench_django,
    bench_env,
    bench_stores,
    machine,
    metrics_table,
    percentile,
)

DB_NAME = "dispatch_bench_chat"
BENCH_REDIS_DB = 14
RESULTS = Path(__file__).resolve().parent / "results" / "chat.json"
TARGETS = {"message_p99_ms": 200, "queue_load_ms": 300}
OPERATORS = 10


def seed(*, conversations: int, open_contacts: int) -> dict:
    """Two clients, operators answering for both, the conversations with their visitors'
    tokens, and the open contacts of the queue."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils import timezone
    from knox.models import AuthToken

    from accounts.models import Role, Tenant, User
    from contacts.models import Contact, ContactSettings
    from contacts.services import contact_create
    from contacts.tokens import visitor_token
    from core.tenancy import every_tenant

    with every_tenant():
        tenants = [
            Tenant.objects.create(name="Almaty Telecom", slug="almaty-telecom", language="en"),
            Tenant.objects.create(name="Beta Networks", slug="beta-networks", language="en"),
        ]
        for tenant in tenants:
            ContactSettings.objects.create(tenant=tenant, chat_hours_start=0, chat_hours_end=24)
        operators = []
        for n in range(OPERATORS):
            user = User.objects.create(
                username=f"operator{n}", tenant=tenants[0], role=Role.OPERATOR, first_name="Op"
            )
            user.clients.add(tenants[1])
            operators.append(user)
        chats = []
        for n in range(conversations):
            contact = contact_create(tenant=tenants[n % 2], channel="chat", visitor_name=f"v{n}")
            chats.append({"id": contact.pk, "token": visitor_token(contact)})
        rng, now = random.Random(16), timezone.now()
        channels = [c for c in Contact.Channel.values if c != "chat"]
        Contact.objects.bulk_create(
            [
                Contact(
                    tenant=tenants[n % 2],
                    channel=rng.choice(channels),
                    sender=f"+7701{n:07d}",
                    sla_due=now + timedelta(minutes=rng.randint(-120, 600)),
                    priority=rng.randint(1, 4),
                    status=rng.choice(["new", "new", "in_progress", "waiting_for_customer"]),
                )
                for n in range(open_contacts)
            ],
            batch_size=1000,
        )
        sessions, tokens = [], []
        for user in operators:
            session = import_module(settings.SESSION_ENGINE).SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            sessions.append(session.session_key)
            tokens.append(AuthToken.objects.create(user)[1])
    return {"chats": chats, "sessions": sessions, "tokens": tokens}


class Deliveries:
    """When each message was sent and when its frame arrived on the other side."""

    def __init__(self):
        self.sent: dict[tuple, float] = {}
        self.arrived: dict[tuple, float] = {}
        self.answered: dict[tuple, float] = {}  # when the POST's answer came back
        self.errors = 0

    def latencies(self) -> list[float]:
        return [self.arrived.get(key, math.inf) - sent for key, sent in self.sent.items()]


async def listen(ws, deliveries: Deliveries, side: str, stop: asyncio.Event) -> None:
    """Frames of messages: the key is the body (unique per message) and who should hear it."""
    while not stop.is_set():
        try:
            message = await asyncio.wait_for(ws.receive(), timeout=1)
        except TimeoutError:
            continue
        if message.type != aiohttp.WSMsgType.TEXT:
            if message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                return
            continue
        frame = json.loads(message.data)
        if frame.get("type") == "message" and frame.get("body", "").startswith(side):
            deliveries.arrived.setdefault((side, frame["body"]), time.perf_counter())


async def conversation(
    http, base: str, chat: dict, operator_token: str, deliveries, args, stop, index: int
) -> None:
    await asyncio.sleep(random.Random(index).uniform(0, args.interval))
    n = 0
    while not stop.is_set():
        n += 1
        from_visitor = n % 2 == 1
        side = "to-op" if from_visitor else "to-visitor"
        body = f"{side} {chat['id']} {n} {secrets.token_hex(4)}"
        if from_visitor:
            url, headers = (
                f"{base}/chat/api/messages/",
                {"Authorization": f"Bearer {chat['token']}"},
            )
        else:
            url = f"{base}/api/v1/contacts/{chat['id']}/reply/"
            headers = {"Authorization": f"Token {operator_token}"}
        deliveries.sent[(side, body)] = time.perf_counter()
        try:
            async with http.post(url, json={"body": body}, headers=headers) as response:
                await response.read()
                deliveries.answered[(side, body)] = time.perf_counter()
                if response.status != 201:
                    deliveries.sent.pop((side, body), None)
                    deliveries.errors += 1
        except aiohttp.ClientError:
            deliveries.errors += 1
        await asyncio.sleep(args.interval)


async def open_sockets(ws_base: str, seeded: dict, deliveries: Deliveries, stop, http):
    sockets, tasks = [], []
    for chat in seeded["chats"]:
        ws = await http.ws_connect(
            f"{ws_base}/ws/chat/?token={chat['token']}",
            headers={"Origin": "https://client.example"},
        )
        sockets.append(ws)
        tasks.append(asyncio.create_task(listen(ws, deliveries, "to-visitor", stop)))
    per_operator = math.ceil(len(seeded["chats"]) / OPERATORS)
    for n, session in enumerate(seeded["sessions"]):
        ws = await http.ws_connect(
            f"{ws_base}/ws/contacts/",
            headers={"Origin": "http://localhost", "Cookie": f"sessionid={session}"},
        )
        for chat in seeded["chats"][n * per_operator : (n + 1) * per_operator]:
            await ws.send_json({"type": "open", "contact": chat["id"]})
            reply = json.loads((await ws.receive(timeout=10)).data)
            while reply.get("type") != "opened":
                reply = json.loads((await ws.receive(timeout=10)).data)
        sockets.append(ws)
        tasks.append(asyncio.create_task(listen(ws, deliveries, "to-op", stop)))
    return sockets, tasks


async def bare_pushes(seeded: dict, deliveries: Deliveries, rounds: int, interval: float) -> None:
    """The baseline: frames of the same shape sent by `group_send` straight to the groups, at
    the conversations' pace (each conversation one frame per `interval` / 2 s, as each side
    hears a message every other interval)."""
    gap = interval / len(seeded["chats"])
    from channels.layers import get_channel_layer

    from core import groups

    layer = get_channel_layer()
    for n in range(rounds):
        for chat in seeded["chats"]:
            body = f"to-visitor bare {chat['id']} {n}"
            deliveries.sent[("to-visitor", body)] = time.perf_counter()
            frame = {"seq": 0, "direction": "out", "body": body, "author": "Op", "at": None}
            await layer.group_send(
                groups.conversation(chat["id"]),
                {"type": "chat.push", "seq": 0, "message": {**frame, "attachment": False}},
            )
            await asyncio.sleep(gap)


async def measure_messages(stack: Stack, seeded: dict, args) -> dict:
    base, ws_base = f"http://127.0.0.1:{stack.http_port}", f"ws://127.0.0.1:{stack.ws_port}"
    # Sockets hold their connection: they get a pool of their own, without a limit; the POSTs
    # share 64 connections (as a few proxies in front of many browsers would).
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as http,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as wsp,
    ):
        product, bare, stop = Deliveries(), Deliveries(), asyncio.Event()
        sockets, listeners = await open_sockets(ws_base, seeded, product, stop, wsp)
        print(f"· {len(sockets)} sockets open; {args.seconds:.0f} s of conversations", flush=True)
        talkers = [
            asyncio.create_task(
                conversation(
                    http,
                    base,
                    chat,
                    seeded["tokens"][n % OPERATORS],
                    product,
                    args,
                    stop,
                    n,
                )
            )
            for n, chat in enumerate(seeded["chats"])
        ]
        await asyncio.sleep(args.seconds)
        stop_talk = asyncio.Event()
        for task in talkers:
            task.cancel()
        await asyncio.sleep(args.grace)
        # The baseline on the same sockets, now quiet.
        for ws_listener in listeners:
            ws_listener.cancel()
        stop_talk.set()
        listeners = [
            asyncio.create_task(listen(ws, bare, "to-visitor", stop))
            for ws in sockets[: len(seeded["chats"])]
        ]
        await bare_pushes(seeded, bare, rounds=2, interval=args.interval)
        await asyncio.sleep(2)
        stop.set()
        for task in listeners:
            task.cancel()
        for ws in sockets:
            await ws.close()
    return {
        "product": _spread(product),
        "bare": _spread(bare),
        "errors": product.errors,
        "post": _post_spread(product),
    }


def _spread(deliveries: Deliveries) -> dict:
    values = deliveries.latencies()
    arrived = [v for v in values if not math.isinf(v)]
    return {
        "n": len(values),
        "delivered": len(arrived),
        "p50_ms": _ms(percentile(values, 0.5)),
        "p95_ms": _ms(percentile(values, 0.95)),
        "p99_ms": _ms(percentile(values, 0.99)),
    }


def _post_spread(deliveries: Deliveries) -> dict:
    """The POSTs' own time (request to answer), per direction: the part of a delivery the HTTP
    side takes, the rest being the push."""
    found = {}
    for side in ("to-op", "to-visitor"):
        values = [
            answered - deliveries.sent[key]
            for key, answered in deliveries.answered.items()
            if key[0] == side and key in deliveries.sent
        ]
        found[side] = {
            "p50_ms": _ms(percentile(values, 0.5)),
            "p99_ms": _ms(percentile(values, 0.99)),
            "n": len(values),
        }
    return found


def _ms(value: float) -> float | None:
    return None if math.isinf(value) else round(value * 1000, 1)


async def measure_queue(stack: Stack, seeded: dict, args) -> dict:
    base = f"http://127.0.0.1:{stack.http_port}"
    cookie = {"Cookie": f"sessionid={seeded['sessions'][0]}"}
    results = {}
    async with aiohttp.ClientSession() as http:
        for name, path in (
            ("api", "/api/v1/contacts/"),
            ("page", "/contacts/"),
            ("bare", "/bench/bare/list/"),
        ):
            times = []
            for n in range(args.queue_requests + 3):
                started = time.perf_counter()
                async with http.get(base + path, headers=cookie) as response:
                    await response.read()
                    if response.status != 200:
                        raise SystemExit(f"{path} answered {response.status}")
                if n >= 3:  # the first few warm the workers
                    times.append(time.perf_counter() - started)
            results[name] = {
                "p50_ms": _ms(percentile(times, 0.5)),
                "p99_ms": _ms(percentile(times, 0.99)),
                "n": len(times),
            }
    return results


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.chat", description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument(
        "--interval",
        type=float,
        default=10.0,
        help="seconds between two messages of a conversation (alternately visitor, operator)",
    )
    parser.add_argument("--grace", type=float, default=5)
    parser.add_argument("--open-contacts", type=int, default=5000)
    parser.add_argument("--queue-requests", type=int, default=60)
    parser.add_argument("--database", default=DB_NAME)
    parser.add_argument("--redis-db", type=int, default=BENCH_REDIS_DB)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    began, load_at_start = time.time(), os.getloadavg()
    database_url, redis_url = bench_stores(args.database, args.redis_db, channels=True)
    logs = Path(tempfile.mkdtemp(prefix="bench-chat-"))
    env = bench_env(
        database_url,
        redis_url,
        RATELIMIT_ENABLE="false",
        BENCH_STATIC_ROOT=str(logs / "static"),
        WS_ALLOWED_ORIGINS="http://localhost",
    )
    os.environ.update(env)
    server_version = bench_django(args.database)
    seeded = seed(conversations=args.conversations, open_contacts=args.open_contacts)
    stack = Stack(env, logs)
    stack.start()
    try:
        queue = asyncio.run(measure_queue(stack, seeded, args))
        messages = asyncio.run(measure_messages(stack, seeded, args))
    finally:
        stack.stop()
    product, bare = messages["product"], messages["bare"]
    message_p99, queue_p99 = product["p99_ms"], queue["api"]["p99_ms"]
    figures = {
        "message_p99_ms": message_p99,
        "queue_load_ms": queue_p99,
        "message_p50_ms": product["p50_ms"],
        "messages": product,
        "messages_bare_group_send": bare,
        "message_post_errors": messages["errors"],
        "message_posts": messages["post"],
        "queue": queue,
        "met": {
            "message_p99_ms": message_p99 is not None and message_p99 <= TARGETS["message_p99_ms"],
            "queue_load_ms": queue_p99 is not None and queue_p99 <= TARGETS["queue_load_ms"],
        },
    }
    result = {
        "benchmark": "chat",
        "parameters": {k: v for k, v in vars(args).items() if k != "output"} | {"output": None},
        "targets": TARGETS,
        **figures,
        "seconds": round(time.time() - began, 1),
        "machine": machine(load_at_start, server_version, database_url),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    ratio = round(message_p99 / bare["p99_ms"], 2) if message_p99 and bare["p99_ms"] else None
    queue_ratio = round(queue_p99 / queue["bare"]["p99_ms"], 2) if queue["bare"]["p99_ms"] else None
    print(
        metrics_table(
            [
                (
                    f"message delivery p99, ms ({product['delivered']}/{product['n']})",
                    message_p99,
                    bare["p99_ms"],
                    ratio,
                    TARGETS["message_p99_ms"],
                    figures["met"]["message_p99_ms"],
                ),
                ("message delivery p50, ms", product["p50_ms"], bare["p50_ms"], None, None, None),
                (
                    f"queue API p99, ms ({args.open_contacts} open)",
                    queue_p99,
                    queue["bare"]["p99_ms"],
                    queue_ratio,
                    TARGETS["queue_load_ms"],
                    figures["met"]["queue_load_ms"],
                ),
                (
                    "queue page p99, ms",
                    queue["page"]["p99_ms"],
                    queue["bare"]["p99_ms"],
                    None,
                    None,
                    None,
                ),
            ],
            metric=44,
        )
    )
    for side, row in messages["post"].items():
        print(f"· POST {side}: p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms (n {row['n']})")
    print(f"· wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
