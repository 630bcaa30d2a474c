"""The dispatcher board at size (issue #12): first data, query counts, a usable page, live fan-out.

    python -m bench.board [--technicians 300] [--jobs 3000] [--rounds 30] [--browser-rounds 7]
                          [--fanout-rounds 30] [--sockets 100] [--drag-rounds 10]
    make bench-board   # = python -m devtools.devstack run --profile bench -- <the above>

It runs against whatever DATABASE_URL / REDIS_URL are set (`devtools.devstack run` starts an
embedded PostgreSQL and Redis when they are not). It drops and re-creates the database
`dispatch_bench_board`, migrates it with `bench.settings`, collects the static files into a
temporary folder (production's manifest storage; DEBUG is off) and seeds two tenants in bulk:

- *large*: `--technicians` technicians (2–4 of 5 skills, homes and last positions around
  Almaty, a shift covering now ± 8 h) and `--jobs` open requests — planned ones with 2-hour
  windows today and tomorrow, one in six an emergency; two thirds with a live visit (each
  technician's visits one after the other, never overlapping), some of them under way, some
  late, at risk or escalated, a few held; and the dispatchers the sockets and browsers sign in
  as (sessions written directly, as a password sign-in would leave them);
- *small*: the same at a tenth (`--technicians / 10` × `--jobs / 10`), for the query counts.

Then, each against a baseline measured in the same run (these 2-core machines are noisy):

1. **queries** (in-process, Django's test client): statements of `/board/`, the queue's first
   page, the timeline and one drawer, at both sizes — they must be equal. The slowest
   statements of the large tenant are kept as evidence.
2. **first load** — gunicorn (2 sync workers, as in production) on 127.0.0.1: each round
   fetches what the board page fetches on load (`GET /board/`, the queue's first 100, the
   timeline's default range) one after the other with a real HTTP client, and three times the
   bare `GET /bench/bare/list/` (the same authentication and permission, a fixed list).
3. **fan-out** — uvicorn (HTTP and /ws/, as `tests/live/stack.py` starts it): `--sockets`
   dispatcher WebSockets of the tenant (one signed-in dispatcher each); a request change
   through the product path (`request_changed` in a transaction: version, event row, push after
   commit) until the last socket has it, beside a bare `channel_layer.group_send` of an event of
   the same size to the same group.
4. **browser** — Debian's Chromium (Playwright) at 1440×900 on the same uvicorn, signed in as a
   dispatcher, from navigation start to a usable board (queue rows drawn, the timeline's
   technicians drawn, the live badge on), a new context each round (cold cache) and then the
   same context again (warm cache). The bare page: the board's own HTML only.
5. **drag** — two dispatchers in two browsers, both showing the unassigned requests: a queue
   row of board A dropped onto a technician's timeline row, until board B shows that
   technician on the request's row (`Date.now()` in both pages: one machine clock). When the
   rule dialog appears it is confirmed, and the time it waited for the click is not counted.

No Celery worker runs: nothing measured waits for one (what the product enqueues waits in Redis
database BENCH_REDIS_DB and is dropped on exit). Prints a table and writes
`bench/results/board.json` (`--output`). Every process it starts is stopped on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.emergency_loop import (
    _around,
    _die_with_parent,
    _floor_half_hour,
    analyze,
    bench_django,
    bench_env,
    bench_stores,
    machine,
    metrics_table,
    ms,
    percentile,
    queue_purge,
    seed_crew,
)
from bench.intake import Server
from devtools.devstack import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = Path(__file__).parent / "results" / "board.json"
DB_NAME = "dispatch_bench_board"
BENCH_REDIS_DB = 14
SEED = 12
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DESKTOP = {"width": 1440, "height": 900}
TARGETS = {
    "first_load_server_ms_p99": 300,
    "browser_ready_ms": 1500,
    "fanout_100_last_ms_p99": 150,
}
DROP_TARGETS = 3  # technicians kept free, first on the timeline, for the drag rounds
BARE_PATH = "/bench/bare/list/"
QUEUE_PATH = "/api/v1/board/queue/?limit=100&offset=0"
TIMELINE_PATH = "/api/v1/board/timeline/"
FIRST_LOAD = {"board_html": "/board/", "queue": QUEUE_PATH, "timeline": TIMELINE_PATH}


def spread(values: list[float]) -> dict:
    """Seconds in, milliseconds out."""
    return {
        "p50_ms": ms(percentile(values, 0.5)),
        "p99_ms": ms(percentile(values, 0.99)),
        "max_ms": ms(max(values)) if values else None,
        "n": len(values),
    }


def ratio(product: float | None, bare: float | None) -> float | None:
    return round(product / bare, 2) if product and bare else None


# ── seeding ──────────────────────────────────────────────────────────────────────────────────


@dataclass
class Tenant:
    tenant_id: int
    sessions: list[str]  # one signed-in dispatcher each
    dispatcher_ids: list[int]
    drawer_request_id: int
    changed_request_ids: list[int]  # live visits whose request the fan-out changes
    targets: list[str] = field(default_factory=list)  # drop targets' names, timeline order
    counts: dict = field(default_factory=dict)


def seed_tenant(
    *, slug: str, technicians: int, jobs: int, dispatchers: int, now: datetime
) -> Tenant:
    """Bulk rows, not the per-row services: what matters is the state, not how it was made."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Role, User
    from dispatch.management.commands.seed_demo import FIRST, LAST, STREETS
    from requests_app.models import Customer, ServiceRequest, StatusChange
    from requests_app.numbering import request_number_sequence
    from technicians.models import Shift, Technician, Visit

    rng = random.Random(f"{SEED}-{slug}")
    with transaction.atomic():
        tenant, skills, first, crew, crew_skills = seed_crew(
            rng, technicians, territories=True, slug=slug, name=f"Bench {slug}"
        )
        # The timeline's order (name, then username): its first rows stay free for the drops,
        # with every skill, so a drop there breaks a rule only by its time.
        by_name = sorted(
            crew, key=lambda t: (t.user.first_name, t.user.last_name, t.user.username, t.pk)
        )
        free = by_name[:DROP_TARGETS]
        through = Technician.skills.through
        through.objects.bulk_create(
            [
                through(technician_id=t.pk, skill_id=skill.pk)
                for t in free
                for skill in skills
                if skill not in crew_skills[t.pk]
            ]
        )
        for t in free:
            crew_skills[t.pk] = list(skills)
        for t in crew:  # where each was last seen: near home, in the last quarter of an hour
            t.last_lat, t.last_lon = _around(rng, t.home_lat, t.home_lon, 4)
            t.last_seen_at = now - timedelta(seconds=rng.randint(5, 900))
        Technician.objects.bulk_update(crew, ["last_lat", "last_lon", "last_seen_at"])
        shift_start, shift_end = now - timedelta(hours=8), now + timedelta(hours=8)
        Shift.objects.bulk_create(
            [
                Shift(
                    tenant=tenant,
                    technician=t,
                    date=timezone.localdate(shift_start, tenant.zone),
                    start=shift_start,
                    end=shift_end,
                )
                for t in crew
            ]
        )

        busy = [t for t in crew if t not in free]
        visited = round(jobs * 2 / 3)
        plan = _visits_plan(rng, busy, visited, now)  # (technician, start, minutes) per visit
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                [request_number_sequence(tenant.pk), jobs],
            )
            numbers = [row[0] for row in cursor.fetchall()]
        customers, requests, required, visits = [], [], [], []
        for i in range(jobs):
            technician, start, minutes = plan[i] if i < visited else (None, None, None)
            lat, lon = (
                _around(rng, technician.home_lat, technician.home_lon, 3)
                if technician
                else _around(rng, 43.238, 76.889, 10)
            )
            customers.append(
                Customer(
                    tenant=tenant,
                    name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    phone=f"+7701{rng.randint(1000000, 9999999)}",
                    address=f"{rng.choice(STREETS)} {rng.randint(1, 250)}, Almaty",
                    lat=lat,
                    lon=lon,
                    account_number=f"{slug.upper()}{100000 + i}",
                )
            )
        customers = Customer.objects.bulk_create(customers)
        for i, customer in enumerate(customers):
            technician, start, minutes = plan[i] if i < visited else (None, None, None)
            emergency = rng.random() < 1 / 6
            minutes = minutes or rng.choice([30, 45, 60])
            if emergency:
                created = (start or now) - timedelta(minutes=rng.uniform(5, 50))
                window = (None, None)
                # One in five emergencies planned after its deadline: at risk.
                due = created + timedelta(minutes=60 if rng.random() < 0.8 else 10)
            else:
                # Today's and tomorrow's windows; a visited one's holds its visit.
                anchor = start or now + timedelta(minutes=rng.uniform(-60, 30 * 60))
                opens = _floor_half_hour(anchor - timedelta(minutes=rng.uniform(0, 90)))
                window = (opens, opens + timedelta(hours=2))
                created, due = now - timedelta(hours=rng.uniform(2, 72)), window[1]
            status = "new"
            if technician:
                status = "assigned"
                if start < now:  # under way, or late (not yet on the way)
                    status = rng.choice(["en_route", "on_site", "on_site", "assigned"])
            elif rng.random() < 0.06:
                status = "escalated"
            requests.append(
                ServiceRequest(
                    tenant=tenant,
                    customer=customer,
                    kind="emergency" if emergency else "planned",
                    category=rng.choice(["installation", "relocation", "repair", "maintenance"]),
                    channel=rng.choice(ServiceRequest.Channel.values),
                    lat=customer.lat,
                    lon=customer.lon,
                    address=customer.address,
                    estimated_minutes=minutes,
                    window_start=window[0],
                    window_end=window[1],
                    response_due=due,
                    priority=1 if emergency else 3,
                    status=status,
                    window_at_risk=bool(window[0]) and rng.random() < 0.05,
                    held=not technician and status == "new" and rng.random() < 0.03,
                    number_in_tenant=numbers[i],
                )
            )
            required.append(
                rng.choice(crew_skills[technician.pk] if technician else skills)
                if rng.random() < 0.5
                else None
            )
            if technician:
                visits.append(
                    Visit(
                        tenant=tenant,
                        request=None,  # set below, once the request has its id
                        technician=technician,
                        planned_start=start,
                        planned_end=start + timedelta(minutes=minutes),
                        travel_minutes=rng.choice([10, 15, 20]),
                        status={"assigned": "scheduled"}.get(status, status),
                        arrived_at=start if status == "on_site" else None,
                    )
                )
        requests = ServiceRequest.objects.bulk_create(requests)
        link = ServiceRequest.required_skills.through
        link.objects.bulk_create(
            [
                link(servicerequest_id=r.pk, skill_id=skill.pk)
                for r, skill in zip(requests, required, strict=True)
                if skill
            ]
        )
        for visit, request in zip(visits, requests, strict=False):
            visit.request = request
        visits = Visit.objects.bulk_create(visits)
        changes = [
            StatusChange(tenant=tenant, request=r, from_status="", to_status="new")
            for r in requests
        ]
        changes += [
            StatusChange(tenant=tenant, request=r, from_status="new", to_status=r.status)
            for r in requests
            if r.status != "new"
        ]
        StatusChange.objects.bulk_create(changes)

        unusable = make_password(None)
        crew_users = User.objects.bulk_create(
            [
                User(
                    username=f"{slug}.dispatcher{n}",
                    password=unusable,
                    tenant=tenant,
                    role=Role.DISPATCHER,
                    first_name="Bench",
                    last_name=f"Dispatcher {n}",
                )
                for n in range(2, dispatchers + 1)
            ]
        )
        sessions = []
        for user in [first, *crew_users][:dispatchers]:
            session = import_module(settings.SESSION_ENGINE).SessionStore()
            session[SESSION_KEY] = str(user.pk)
            # The backend a password sign-in records (see bench.emergency_loop.seed).
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            sessions.append(session.session_key)
    later = sorted((v for v in visits if v.planned_start > now), key=lambda v: v.planned_start)
    return Tenant(
        tenant_id=tenant.pk,
        sessions=sessions,
        dispatcher_ids=[first.pk, *(u.pk for u in crew_users)][:dispatchers],
        drawer_request_id=visits[0].request_id,
        changed_request_ids=[v.request_id for v in later[-50:]],
        targets=[str(t) for t in free],
        counts={
            "technicians": len(crew),
            "open_requests": len(requests),
            "live_visits": len(visits),
            "emergencies": sum(r.kind == "emergency" for r in requests),
            "by_status": dict(sorted(Counter(r.status for r in requests).items())),
            "window_at_risk": sum(r.window_at_risk for r in requests),
            "held": sum(r.held for r in requests),
            "dispatchers": dispatchers,
        },
    )


def _visits_plan(rng, crew, total: int, now: datetime) -> list[tuple]:
    """`total` visits dealt round-robin, each technician's one after the other from two hours
    ago on (so no two overlap: the exclusion constraint would refuse), 20–40 minutes apart."""
    plan, clock = [], {t.pk: now - timedelta(hours=2, minutes=rng.uniform(0, 30)) for t in crew}
    for i in range(total):
        technician = crew[i % len(crew)]
        minutes = rng.choice([30, 45, 60])
        start = clock[technician.pk].replace(microsecond=0)
        clock[technician.pk] = start + timedelta(minutes=minutes + rng.uniform(20, 40))
        plan.append((technician, start, minutes))
    rng.shuffle(plan)
    return plan


# ── 1. query counts (in-process) ─────────────────────────────────────────────────────────────


def queries_per_endpoint(tenant: Tenant) -> dict:
    """Statements of each board read for one tenant's dispatcher, through Django's test client
    (the middleware, authentication and tenant scope of a real request); with each endpoint's
    in-process time and its three slowest statements."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(pk=tenant.dispatcher_ids[0]))
    paths = {**FIRST_LOAD, "drawer": f"/api/v1/board/requests/{tenant.drawer_request_id}/"}
    out = {}
    for name, path in paths.items():
        client.get(path)  # warm: the first request of a process builds its caches
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:3]
        out[name] = {
            "queries": len(queries),
            "in_process_ms": round(elapsed * 1000, 1),
            "bytes": len(response.content),
            "slowest": [
                {"ms": round(float(q["time"]) * 1000, 1), "sql": q["sql"][:400]} for q in slowest
            ],
        }
    return out


# ── 2. first load over HTTP (gunicorn) ───────────────────────────────────────────────────────


def http_get(port: int, path: str, session: str, timeout: float = 30) -> tuple[float, int, int]:
    """One GET on a new connection (gunicorn's sync workers close it after each answer), read
    to the end: (seconds, status, bytes)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(
            "GET",
            path,
            headers={
                "Host": "localhost",
                "Cookie": f"sessionid={session}",
                "Accept": "application/json" if path.startswith("/api/") else "text/html",
            },
        )
        answer = connection.getresponse()
        body = answer.read()
    finally:
        connection.close()
    return time.perf_counter() - started, answer.status, len(body)


def first_load(port: int, session: str, rounds: int, warmup: int = 3) -> dict:
    """Each round: the board's three fetches and three bare fetches, sequentially, in an order
    that alternates (so neither side always goes first on a warmer server)."""
    times: dict[str, list[float]] = {name: [] for name in [*FIRST_LOAD, "bare"]}
    sums: dict[str, list[float]] = {"product": [], "bare": []}
    sizes = {}
    for round_ in range(warmup + rounds):
        sides = [("product", FIRST_LOAD), ("bare", {f"bare{k}": BARE_PATH for k in range(3)})]
        if round_ % 2:
            sides.reverse()
        for side, paths in sides:
            total = 0.0
            for name, path in paths.items():
                seconds, status, size = http_get(port, path, session)
                if status != 200:
                    raise RuntimeError(f"GET {path} answered {status}")
                total += seconds
                if round_ >= warmup:
                    times["bare" if side == "bare" else name].append(seconds)
                sizes[name if side == "product" else "bare"] = size
            if round_ >= warmup:
                sums[side].append(total)
    return {
        "product_sum": spread(sums["product"]),
        "bare_sum": spread(sums["bare"]),
        "each": {name: spread(values) for name, values in times.items()},
        "bytes": sizes,
    }


# ── 3. fan-out to dispatcher sockets (uvicorn) ───────────────────────────────────────────────


class Sockets:
    """`n` dispatcher WebSockets; the moment each receives an event with a given mark."""

    def __init__(self):
        self.connections = []
        self.readers = []
        self.waiting: dict[str, dict[int, float]] = {}  # mark → socket index → perf_counter

    async def open(self, port: int, sessions: list[str]) -> None:
        import websockets

        async def one(session: str):
            return await websockets.connect(
                f"ws://127.0.0.1:{port}/ws/dispatch/",
                max_queue=None,
                open_timeout=30,
                additional_headers={"Cookie": f"sessionid={session}", "Origin": "http://localhost"},
            )

        # In batches: a hundred handshakes at once would only measure the accept queue.
        for start in range(0, len(sessions), 20):
            self.connections += await asyncio.gather(*(one(s) for s in sessions[start:][:20]))
        self.readers = [
            asyncio.create_task(self._read(i, c)) for i, c in enumerate(self.connections)
        ]

    async def _read(self, index: int, connection) -> None:
        async for raw in connection:
            at = time.perf_counter()
            frame = json.loads(raw)
            if frame.get("type") != "event":
                continue
            data = frame.get("data") or {}
            mark = data.get("bench_mark") or f"{data.get('id')}@{data.get('version')}"
            if mark in self.waiting:
                self.waiting[mark].setdefault(index, at)

    def expect(self, mark: str) -> None:
        self.waiting[mark] = {}

    async def arrivals(self, mark: str, timeout: float = 5) -> dict[int, float]:
        deadline = time.perf_counter() + timeout
        while len(self.waiting[mark]) < len(self.connections) and time.perf_counter() < deadline:
            await asyncio.sleep(0.002)
        return self.waiting.pop(mark)

    async def close(self) -> None:
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*(c.close() for c in self.connections), return_exceptions=True)


def product_change(request_id: int) -> tuple[float, str, int]:
    """The product path of a change: `request_changed` in its transaction (version raised,
    event row numbered under the tenant lock, pushed after commit). (start, mark, bytes)."""
    from django.db import transaction

    from core.tenancy import every_tenant
    from requests_app.models import ServiceRequest
    from requests_app.payloads import request_payload
    from requests_app.services import request_changed

    with every_tenant():
        request = ServiceRequest.objects.select_related("customer").get(pk=request_id)
        started = time.perf_counter()
        with transaction.atomic():
            request_changed(request=request)
        size = len(json.dumps(request_payload(request)))
    return started, f"{request.pk}@{request.version}", size


def bare_send(group: str, payload: dict, mark: str) -> float:
    """The same size of event straight to the group: no transaction, no row, no pusher."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    event = {"seq": 0, "kind": "bench.bare", "at": None, "data": {**payload, "bench_mark": mark}}
    send = async_to_sync(get_channel_layer().group_send)
    started = time.perf_counter()
    send(group, {"type": "events.push", "events": [event]})
    return started


async def fanout(port: int, tenant: Tenant, sockets_n: int, rounds: int) -> dict:
    from core import groups
    from core.tenancy import every_tenant
    from requests_app.models import ServiceRequest
    from requests_app.payloads import request_payload

    def a_payload():
        with every_tenant():
            request = ServiceRequest.objects.select_related("customer").get(
                pk=tenant.changed_request_ids[0]
            )
            return request_payload(request)

    payload = await asyncio.to_thread(a_payload)
    group = groups.dispatchers(tenant.tenant_id)
    sockets = Sockets()
    await sockets.open(port, tenant.sessions[:sockets_n])
    if len(sockets.connections) != sockets_n:
        raise RuntimeError(f"{len(sockets.connections)} of {sockets_n} sockets opened")
    await asyncio.sleep(1.0)
    results = {"product": {"last": [], "first": []}, "bare": {"last": [], "first": []}}
    missing = {"product": 0, "bare": 0}
    sizes = {}
    ids = tenant.changed_request_ids
    try:
        for round_ in range(rounds + 2):  # two warm-up rounds
            order = ["product", "bare"] if round_ % 2 == 0 else ["bare", "product"]
            for side in order:
                if side == "product":
                    request_id = ids[round_ % len(ids)]
                    # The mark is known once the version is: expect every version it may take.
                    marks = [f"{request_id}@{v}" for v in range(1, 50)]
                    for mark in marks:
                        sockets.expect(mark)
                    started, mark, sizes["product"] = await asyncio.to_thread(
                        product_change, request_id
                    )
                    for other in marks:
                        if other != mark:
                            sockets.waiting.pop(other, None)
                else:
                    mark = f"bare-{round_}"
                    sockets.expect(mark)
                    started = await asyncio.to_thread(bare_send, group, payload, mark)
                    sizes["bare"] = len(json.dumps({**payload, "bench_mark": mark}))
                arrived = await sockets.arrivals(mark)
                if round_ >= 2:
                    missing[side] += sockets_n - len(arrived)
                    if len(arrived) == sockets_n:
                        results[side]["last"].append(max(arrived.values()) - started)
                        results[side]["first"].append(min(arrived.values()) - started)
                await asyncio.sleep(0.2)
    finally:
        await sockets.close()
    return {
        "sockets": sockets_n,
        "product_last": spread(results["product"]["last"]),
        "product_first": spread(results["product"]["first"]),
        "bare_last": spread(results["bare"]["last"]),
        "bare_first": spread(results["bare"]["first"]),
        "missing_deliveries": missing,
        "payload_bytes": sizes,
    }


# ── 4. and 5. the board in Chromium (uvicorn) ────────────────────────────────────────────────

# Records, in the page's own clock, when the board became usable and when a row changed.
PAGE_PROBE = """
(() => {
  const parts = {
    rows: () => document.querySelectorAll('tbody#rows tr[data-id]').length > 0,
    labels: () => document.querySelectorAll('.vis-labelset .vis-label').length > 0,
    live: () => !!document.querySelector('[data-testid=live]')?.classList.contains('on'),
  };
  window.__bench = {
    ready: null, at: {}, watch: null, seen: null, dialogOpen: null, dialogClick: null,
  };
  const check = () => {
    const b = window.__bench;
    if (b.ready === null) {
      for (const [name, done] of Object.entries(parts)) {
        if (!(name in b.at) && done()) b.at[name] = performance.now();
      }
      if (Object.keys(b.at).length === 3) b.ready = performance.now();
    }
    if (b.watch && b.seen === null) {
      const cell = document.querySelector(`tbody#rows tr[data-id='${b.watch.id}'] td.technician`);
      if (cell && cell.textContent === b.watch.name) b.seen = Date.now();
    }
    const dialog = document.getElementById('rules-dialog');
    if (dialog && dialog.open && b.dialogOpen === null) b.dialogOpen = Date.now();
  };
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ['class', 'open'],
  });
  document.addEventListener('drop', () => { window.__bench.dropAt = Date.now(); }, true);
  document.addEventListener('click', (e) => {
    if (e.target && e.target.id === 'rules-confirm') window.__bench.dialogClick = Date.now();
  }, true);
})();
"""

READY = "() => window.__bench && window.__bench.ready"

PHASES = """
() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const api = (part) => performance.getEntriesByType('resource')
    .filter((r) => r.name.includes(part)).map((r) => r.responseEnd)[0] ?? null;
  return {
    html_response_end: nav.responseEnd, dom_content_loaded: nav.domContentLoadedEventEnd,
    load_event: nav.loadEventEnd, queue_response_end: api('/api/v1/board/queue/'),
    timeline_response_end: api('/api/v1/board/timeline/'),
    queue_rows_drawn: window.__bench.at.rows, timeline_labels_drawn: window.__bench.at.labels,
    live_on: window.__bench.at.live, ready: window.__bench.ready,
  };
}
"""


def browser_ready(browser, base: str, session: str, rounds: int) -> dict:
    """Cold: a new context (empty cache) each round. Warm: the same context navigating back
    to the board (the hashed static files come from its cache)."""
    cold, warm, phases = [], [], []
    for round_ in range(rounds + 1):  # one warm-up round
        context = browser.new_context(viewport=DESKTOP)
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        context.add_init_script(PAGE_PROBE)
        page = context.new_page()
        try:
            for which in ("cold", "warm"):
                if which == "warm":
                    page.goto("about:blank")
                page.goto(f"{base}/board/", wait_until="commit")
                page.wait_for_function(READY, timeout=90_000)
                timing = page.evaluate(PHASES)
                if round_ >= 1:
                    (cold if which == "cold" else warm).append(timing["ready"] / 1000)
                    if which == "cold":
                        phases.append(timing)
        finally:
            context.close()
    phase_p50 = {
        key: round(statistics.median(p[key] for p in phases if p[key] is not None), 1)
        for key in phases[0]
        if any(p[key] is not None for p in phases)
    }
    return {"cold": spread(cold), "warm": spread(warm), "phases_p50_ms": phase_p50}


def bare_page(browser, base: str, session: str, rounds: int) -> dict:
    """The baseline of a page: the same server and browser loading the bare read's JSON (the
    same authentication, no scripts, no data): navigation start to its load event."""
    times = []
    context = browser.new_context(viewport=DESKTOP)
    context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    page = context.new_page()
    try:
        for round_ in range(rounds + 1):
            page.goto(f"{base}{BARE_PATH}?format=json", wait_until="load")
            end = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
            if round_ >= 1:
                times.append(end / 1000)
            page.goto("about:blank")
    finally:
        context.close()
    return spread(times)


def open_board(browser, base: str, session: str):
    context = browser.new_context(viewport=DESKTOP)
    context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    context.add_init_script(PAGE_PROBE)
    page = context.new_page()
    page.goto(f"{base}/board/")
    page.wait_for_function(READY, timeout=90_000)
    # Only the requests waiting for someone: the dragged ones are on the first page.
    with page.expect_response(lambda answer: "needs=unassigned" in answer.url):
        page.select_option("#filters select[name=needs]", "unassigned")
    page.wait_for_function("() => window.board.queue.loading === null", timeout=15_000)
    return context, page


def drag(browser, base: str, tenant: Tenant, rounds: int) -> dict:
    """A queue row of board A dropped on a free technician's timeline row (the first rows,
    in view), one after another further along the day; until board B shows it."""
    context_a, a = open_board(browser, base, tenant.sessions[1])
    context_b, b = open_board(browser, base, tenant.sessions[2])
    times, dialogs, failures = [], 0, []
    try:
        for round_ in range(rounds):
            index = round_ % DROP_TARGETS
            minutes = 20 + (round_ // DROP_TARGETS) * 70  # each technician's drops never overlap
            ids = a.eval_on_selector_all(
                "tbody#rows tr[data-id]", "rows => rows.map((r) => r.dataset.id)"
            )
            request_id = next(
                (i for i in ids if b.locator(f"tbody#rows tr[data-id='{i}']").count()), None
            )
            if request_id is None:
                failures.append(f"round {round_}: no unassigned row on both boards")
                continue
            name = tenant.targets[index]
            b.evaluate(
                "([id, name]) => { Object.assign(window.__bench,"
                " { watch: { id, name }, seen: null }); }",
                [request_id, name],
            )
            a.evaluate(
                "() => Object.assign(window.__bench,"
                " { dropAt: null, dialogOpen: null, dialogClick: null })"
            )
            _drop(a, request_id, index, minutes)
            dialog = a.get_by_test_id("rules-dialog")
            deadline = time.monotonic() + 60  # a board redrawing its timeline is slow
            while time.monotonic() < deadline:
                if b.evaluate("() => window.__bench.seen") is not None:
                    break
                if dialog.is_visible():
                    dialog.locator("#rules-confirm").click()
                    dialogs += 1
                time.sleep(0.02)
            marks_a = a.evaluate("() => window.__bench")
            seen = b.evaluate("() => window.__bench.seen")
            if seen is None or marks_a.get("dropAt") is None:
                failures.append(f"round {round_}: request {request_id} never shown on board B")
                continue
            waited = 0
            if marks_a.get("dialogOpen") and marks_a.get("dialogClick"):
                waited = marks_a["dialogClick"] - marks_a["dialogOpen"]
            times.append((seen - marks_a["dropAt"] - waited) / 1000)
            # Both queues drop the row on their next read; wait for it before the next drop.
            for page in (a, b):
                page.wait_for_function(
                    f"() => !document.querySelector(\"tbody#rows tr[data-id='{request_id}']\")",
                    timeout=60_000,
                )
    finally:
        context_a.close()
        context_b.close()
    return {
        **spread(times),
        "rounds_with_rule_dialog": dialogs,
        "failures": failures,
        "note": "drop on board A → technician shown on board B, minus any wait of the rule "
        "dialog for its click; Date.now() of both pages",
    }


def _drop(page, request_id: str, index: int, minutes_from_now: int) -> None:
    """As tests/browser/test_board_dispatching.py drag_to_technician: onto the technician's
    row, `minutes_from_now` after the now-line."""
    target = page.locator(".vis-itemset .vis-foreground .vis-group").nth(index)
    now_x = page.locator(".vis-current-time").bounding_box()["x"]
    row = target.bounding_box()
    scale = page.evaluate(
        "() => { const w = window.board.timeline.view.getWindow();"
        " return document.querySelector('.vis-foreground').getBoundingClientRect().width"
        " / (w.end - w.start); }"
    )
    x = now_x - row["x"] + minutes_from_now * 60_000 * scale
    source = page.locator(f"tbody#rows tr[data-id='{request_id}']")
    source.drag_to(target, target_position={"x": x, "y": row["height"] / 2}, force=True)


# ── processes ────────────────────────────────────────────────────────────────────────────────


def uvicorn_start(env: dict, port: int, logs: Path) -> subprocess.Popen:
    """HTTP and /ws/ from one ASGI process, as tests/live/stack.py start_asgi (no persistent
    connections under ASGI: Django's advice, see bench.http_servers)."""
    with open(logs / "uvicorn.out", "ab") as output:
        process = subprocess.Popen(
            [
                str(BIN / "uvicorn"),
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env={**env, "DATABASE_CONN_MAX_AGE": "0"},
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    wait_for_port(port, process=process, timeout=40)
    return process


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    # The ORM may not run while Playwright's loop runs in this thread unless told it may.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


# ── the run ──────────────────────────────────────────────────────────────────────────────────


def rows(result: dict) -> list[tuple]:
    """(metric, product, baseline, ratio, target, met) for the table."""
    fl, fo, br, dr = (
        result["first_load"],
        result["fanout"],
        result["browser"],
        result["drag_to_other_board"],
    )
    q = result["queries"]
    out = [
        (
            "first_load_server_ms p50",
            fl["product_sum"]["p50_ms"],
            fl["bare_sum"]["p50_ms"],
            ratio(fl["product_sum"]["p50_ms"], fl["bare_sum"]["p50_ms"]),
            None,
            None,
        ),
        (
            "first_load_server_ms p99",
            fl["product_sum"]["p99_ms"],
            fl["bare_sum"]["p99_ms"],
            ratio(fl["product_sum"]["p99_ms"], fl["bare_sum"]["p99_ms"]),
            TARGETS["first_load_server_ms_p99"],
            (fl["product_sum"]["p99_ms"] or 1e9) <= TARGETS["first_load_server_ms_p99"],
        ),
    ]
    bare = fl["each"]["bare"]
    for name in FIRST_LOAD:
        each = fl["each"][name]
        out.append(
            (
                f"  {name} p50 / p99",
                f"{each['p50_ms']} / {each['p99_ms']}",
                f"{bare['p50_ms']} / {bare['p99_ms']}",
                ratio(each["p99_ms"], bare["p99_ms"]),
                None,
                None,
            )
        )
    for name in ("board_html", "queue", "timeline", "drawer"):
        small, large = q["small"][name]["queries"], q["large"][name]["queries"]
        out.append(
            (f"queries {name} (small → large)", f"{small} → {large}", "", "", "=", small == large)
        )
    out += [
        (
            "browser_ready_ms cold p50 / p99",
            f"{br['cold']['p50_ms']} / {br['cold']['p99_ms']}",
            f"{br['bare_page']['p50_ms']} / {br['bare_page']['p99_ms']}",
            ratio(br["cold"]["p99_ms"], br["bare_page"]["p99_ms"]),
            TARGETS["browser_ready_ms"],
            (br["cold"]["p99_ms"] or 1e9) <= TARGETS["browser_ready_ms"],
        ),
        (
            "browser_ready_ms warm p50 / p99",
            f"{br['warm']['p50_ms']} / {br['warm']['p99_ms']}",
            "",
            "",
            TARGETS["browser_ready_ms"],
            (br["warm"]["p99_ms"] or 1e9) <= TARGETS["browser_ready_ms"],
        ),
        (
            f"fanout_{fo['sockets']}_last_ms p50 / p99",
            f"{fo['product_last']['p50_ms']} / {fo['product_last']['p99_ms']}",
            f"{fo['bare_last']['p50_ms']} / {fo['bare_last']['p99_ms']}",
            ratio(fo["product_last"]["p99_ms"], fo["bare_last"]["p99_ms"]),
            TARGETS["fanout_100_last_ms_p99"],
            (fo["product_last"]["p99_ms"] or 1e9) <= TARGETS["fanout_100_last_ms_p99"],
        ),
        (
            "drag_to_other_board_ms p50 / p99",
            f"{dr['p50_ms']} / {dr['p99_ms']}",
            "",
            "",
            None,
            None,
        ),
    ]
    return out


def table(result: dict) -> str:
    return metrics_table(rows(result), metric=40, baseline=17)


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.board", description=__doc__.split("\n")[0])
    parser.add_argument("--technicians", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=30, help="first-load rounds")
    parser.add_argument("--browser-rounds", type=int, default=7)
    parser.add_argument("--fanout-rounds", type=int, default=30)
    parser.add_argument("--sockets", type=int, default=100)
    parser.add_argument("--drag-rounds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    began, load_at_start = time.time(), os.getloadavg()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    database_url, redis_url = bench_stores(DB_NAME, BENCH_REDIS_DB, channels=True)
    logs = Path(tempfile.mkdtemp(prefix="board-"))
    asgi_port = free_port()
    env = bench_env(
        database_url,
        redis_url,
        MAP_TILE_URL="none",
        BENCH_STATIC_ROOT=str(logs / "static"),
        # Python's sockets say http://localhost; the browser's pages http://localhost:<port>.
        WS_ALLOWED_ORIGINS=f"http://localhost,http://localhost:{asgi_port}",
    )
    os.environ.update(env)
    server_version = bench_django(DB_NAME)
    from django.db import connection
    from django.utils import timezone

    migrated = time.time()
    from core.tenancy import every_tenant

    now = timezone.now()
    with every_tenant():
        small = seed_tenant(
            slug="small",
            technicians=max(DROP_TARGETS + 1, args.technicians // 10),
            jobs=max(10, args.jobs // 10),
            dispatchers=1,
            now=now,
        )
        large = seed_tenant(
            slug="large",
            technicians=args.technicians,
            jobs=args.jobs,
            dispatchers=max(args.sockets, 3),
            now=now,
        )
    analyze()
    seeded_at = time.time()
    print(
        f"· seeded in {seeded_at - migrated:.1f} s: large {large.counts}; small {small.counts}",
        flush=True,
    )

    queries = {"small": queries_per_endpoint(small), "large": queries_per_endpoint(large)}
    connection.close()
    print("· queries counted; first load under gunicorn", flush=True)

    result: dict = {}
    gunicorn = Server(env, logs, args.workers)
    try:
        gunicorn.start()
        result["first_load"] = first_load(gunicorn.port, large.sessions[0], args.rounds)
    finally:
        gunicorn.stop()
    print("· first load measured; fan-out under uvicorn", flush=True)

    asgi = None
    try:
        asgi = uvicorn_start(env, asgi_port, logs)
        result["fanout"] = asyncio.run(fanout(asgi_port, large, args.sockets, args.fanout_rounds))
        print("· fan-out measured; the board in Chromium", flush=True)
        base = f"http://localhost:{asgi_port}"
        with chromium() as browser:
            result["browser"] = browser_ready(browser, base, large.sessions[0], args.browser_rounds)
            result["browser"]["bare_page"] = bare_page(
                browser, base, large.sessions[0], args.browser_rounds
            )
            print("· browser measured; drag between two boards", flush=True)
            result["drag_to_other_board"] = drag(browser, base, large, args.drag_rounds)
    finally:
        stop(asgi)
        queue_purge(redis_url, channels=True)
    connection.close()

    result["queries"] = queries
    fl, fo = result["first_load"], result["fanout"]
    br, dr = result["browser"], result["drag_to_other_board"]
    equal = {
        name: queries["small"][name]["queries"] == queries["large"][name]["queries"]
        for name in queries["small"]
    }
    output = {
        "benchmark": "board",
        "description": "the dispatcher board at size: first data over HTTP vs a bare DRF read, "
        "query counts at two sizes, Chromium to a usable board, one change to "
        f"{args.sockets} dispatcher sockets vs a bare group_send, a drag seen on another board",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "first_load_server_ms": {
            "p50": fl["product_sum"]["p50_ms"],
            "p99": fl["product_sum"]["p99_ms"],
            "bare_p50": fl["bare_sum"]["p50_ms"],
            "bare_p99": fl["bare_sum"]["p99_ms"],
            "ratio_p99": ratio(fl["product_sum"]["p99_ms"], fl["bare_sum"]["p99_ms"]),
        },
        "queries_small": {name: row["queries"] for name, row in queries["small"].items()},
        "queries_large": {name: row["queries"] for name, row in queries["large"].items()},
        "queries_equal": equal,
        "browser_ready_ms": {
            "p50": br["cold"]["p50_ms"],
            "p99": br["cold"]["p99_ms"],
            "warm_p50": br["warm"]["p50_ms"],
            "warm_p99": br["warm"]["p99_ms"],
            "bare_page_p50": br["bare_page"]["p50_ms"],
            "bare_page_p99": br["bare_page"]["p99_ms"],
        },
        "fanout_100_last_ms": {
            "p50": fo["product_last"]["p50_ms"],
            "p99": fo["product_last"]["p99_ms"],
            "bare_p50": fo["bare_last"]["p50_ms"],
            "bare_p99": fo["bare_last"]["p99_ms"],
            "ratio_p99": ratio(fo["product_last"]["p99_ms"], fo["bare_last"]["p99_ms"]),
        },
        "drag_to_other_board_ms": {"p50": dr["p50_ms"], "p99": dr["p99_ms"]},
        "target": {
            "first_load_server_ms_p99": {
                "value": TARGETS["first_load_server_ms_p99"],
                "met": (fl["product_sum"]["p99_ms"] or 1e9) <= TARGETS["first_load_server_ms_p99"],
            },
            "queries_equal": {"met": all(equal.values())},
            "browser_ready_ms": {
                "value": TARGETS["browser_ready_ms"],
                "met": (br["cold"]["p99_ms"] or 1e9) <= TARGETS["browser_ready_ms"],
                "measured": "cold p99",
            },
            "fanout_100_last_ms_p99": {
                "value": TARGETS["fanout_100_last_ms_p99"],
                "met": (fo["product_last"]["p99_ms"] or 1e9) <= TARGETS["fanout_100_last_ms_p99"],
            },
        },
        "details": result,
        "machine": machine(load_at_start, server_version, database_url),
        "parameters": {
            "technicians": args.technicians,
            "jobs": args.jobs,
            "small": small.counts,
            "rounds": args.rounds,
            "browser_rounds": args.browser_rounds,
            "fanout_rounds": args.fanout_rounds,
            "sockets": args.sockets,
            "drag_rounds": args.drag_rounds,
            "large": large.counts,
            "servers": f"first load: gunicorn -w {args.workers} (sync), persistent DB "
            "connections; sockets, browser and drag: one uvicorn (HTTP and /ws/, "
            "CONN_MAX_AGE=0); DEBUG off; no Celery worker",
            "browser": f"Debian Chromium {CHROMIUM}, {DESKTOP['width']}×{DESKTOP['height']}, "
            "MAP_TILE_URL=none",
        },
        "durations_s": {
            "migrate_and_static": round(migrated - began, 1),
            "seed": round(seeded_at - migrated, 1),
            "total": round(time.time() - began, 1),
        },
        "logs": str(logs),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2) + "\n")
    print()
    print(table(result))
    print(f"\nwrote {args.output} in {time.time() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
