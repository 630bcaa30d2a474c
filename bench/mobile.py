"""The technician's phone on a slow network (issue #13): first load, load from the cache, a
replay of queued actions, and the customer's live ETA.

    python -m bench.mobile [--rounds 5] [--actions 50] [--eta-posts 4] [--eta-pages 4]
    make bench-mobile   # = python -m devtools.devstack run --profile bench -- <the above>

It runs against whatever DATABASE_URL / REDIS_URL are set (`devtools.devstack run` starts an
embedded PostgreSQL and Redis when they are not). It drops and re-creates the database
`dispatch_bench_mobile`, migrates it with `bench.settings`, collects the static files into a
temporary folder (production's manifest storage, so WhiteNoise serves its compressed copies;
DEBUG is off) and seeds one tenant: a technician (user and password) with location consent, a
shift covering now, and a day of 9 visits (one done this morning, one emergency, the others
planned with 2-hour windows), each for a customer with an address. The tenant's time zone is
chosen so that it is late morning there now: the day is "today" whatever hour the run starts.

Everything runs on one uvicorn (HTTP and /ws/, as `tests/live/stack.py` starts it) and Debian's
Chromium at 390 × 844, each page throttled through the DevTools protocol
(`Network.emulateNetworkConditions`: 400 kbit/s each way, 400 ms added round trip); the service
worker's own fetches are throttled the same way (its target is attached from the browser's
session), or the JSON says they were not.

1. **first load** — a new context each round (empty cache, signed in by its session cookie),
   navigation start to the job cards drawn (`[data-testid=job]`, one per visit of the day);
   bytes transferred (`Network.loadingFinished` `encodedDataLength`) by resource. Baseline: a
   bare page of the same number of bytes (incompressible, no sub-resources) on the same network.
2. **cached load** — the same context once its service worker controls the page: the next
   navigation to `/tech/`, to the cards drawn.
3. **replay** — offline (`context.set_offline`), `--actions` actions queued in the page's
   outbox (`static/js/phone/outbox.js`: notes, and steps in their order), back online under the
   slow network: until the outbox is empty. Then the server: `lost` = queued client ids without
   a `ClientAction`, `duplicated` = client ids recorded more than once; and the same actions
   posted again, which must all come back `duplicate` with nothing new applied.
4. **ETA** — `--eta-pages` customer pages (`/live/<token>/`, throttled like the phone) on the
   emergency the replay put en route, opened a poll interval apart / pages; the phone posts
   positions (`POST /api/v1/me/location/`, alternately far and near, so the ETA changes) and each
   page's ETA text is watched: post → new ETA shown (`Date.now()` of both pages). Baseline: the
   page's poll interval (an update waits for the next poll: uniform over it).

Prints a table and writes `bench/results/mobile.json` (`--output`). No Celery worker (what the
product enqueues waits in Redis database BENCH_REDIS_DB and is dropped on exit).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from bench.board import chromium, stop, uvicorn_start
from bench.emergency_loop import (
    analyze,
    bench_django,
    bench_env,
    bench_stores,
    machine,
    ms,
    percentile,
    queue_purge,
)
from devtools.devstack import free_port

RESULTS = Path(__file__).parent / "results" / "mobile.json"
DB_NAME = "dispatch_bench_mobile"
BENCH_REDIS_DB = 13
SEED = 13
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": False}
KBIT = 400
SLOW = {
    "offline": False,
    "latency": 400,  # ms added to each round trip
    "downloadThroughput": KBIT * 1000 / 8,  # bytes per second
    "uploadThroughput": KBIT * 1000 / 8,
}
TARGETS = {"first_load_ms": 3000, "first_load_kb": 200, "cached_load_ms": 500}
PASSWORD = "bench-mobile-1"  # noqa: S105 - a bench account on loopback
LIVE_POLL_MS = 15000  # static/js/live_eta.js (pollMs in templates/fieldwork/live.html)
# Zones tried for "late morning now": the first whose local hour is nearest 11.
ZONES = [
    "Asia/Almaty",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Atlantic/Azores",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Bangkok",
]


def spread(values: list[float]) -> dict:
    """Seconds in, milliseconds out."""
    return {
        "p50_ms": ms(percentile(values, 0.5)),
        "p95_ms": ms(percentile(values, 0.95)),
        "max_ms": ms(max(values)) if values else None,
        "n": len(values),
    }


# ── seeding ──────────────────────────────────────────────────────────────────────────────────


@dataclass
class Day:
    session: str
    technician_id: int
    visits: list[int]  # in the day's order
    first: int  # window open now: the replay takes it through to completed
    emergency: int  # the replay puts it en route; the ETA is measured on it
    resolution: str
    zone: str


def late_morning_zone(now: datetime) -> str:
    return min(ZONES, key=lambda z: abs(now.astimezone(ZoneInfo(z)).hour + 0.5 - 11))


def seed(now: datetime) -> Day:
    """Rows through the ORM, as a dispatcher's day would leave them."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db import transaction
    from django.utils import timezone

    from bench.emergency_loop import _around, _floor_half_hour, seed_crew
    from dispatch.management.commands.seed_demo import FIRST, LAST, STREETS
    from fieldwork.catalog import resolutions_for
    from requests_app.models import Customer, ServiceRequest, StatusChange
    from technicians.models import Shift, Visit

    rng = random.Random(SEED)
    zone = late_morning_zone(now)
    with transaction.atomic():
        tenant, _skills, _dispatcher, crew, _owned = seed_crew(
            rng, 1, slug="mobile", name="Bench Mobile"
        )
        tenant.time_zone = zone
        tenant.save(update_fields=["time_zone"])
        technician = crew[0]
        user = technician.user
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        technician.location_consent = True
        technician.location_consent_at = now
        technician.save(update_fields=["location_consent", "location_consent_at"])
        Shift.objects.create(
            tenant=tenant,
            technician=technician,
            date=timezone.localdate(now, tenant.zone),
            start=now - timedelta(hours=3, minutes=30),
            end=now + timedelta(hours=6),
        )
        # (start from now in minutes, minutes, kind, status): one done, the one under way
        # now, an emergency next, then planned ones with their windows.
        plan = [(-170, 45, "planned", "completed"), (-20, 45, "planned", "scheduled")]
        plan.append((40, 30, "emergency", "scheduled"))
        plan += [(95 + 50 * n, 40, "planned", "scheduled") for n in range(6)]
        visits = []
        for number, (offset, minutes, kind, status) in enumerate(plan):
            start = now + timedelta(minutes=offset)
            lat, lon = _around(rng, technician.home_lat, technician.home_lon, 6)
            customer = Customer.objects.create(
                tenant=tenant,
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                phone=f"+7701{rng.randint(1000000, 9999999)}",
                address=f"{rng.choice(STREETS)} {rng.randint(1, 250)}, apt {rng.randint(1, 90)}",
                lat=lat,
                lon=lon,
                account_number=f"MOB{100000 + number}",
            )
            opens = _floor_half_hour(start - timedelta(minutes=30))
            request = ServiceRequest.objects.create(
                tenant=tenant,
                customer=customer,
                kind=kind,
                category=rng.choice(["installation", "relocation", "repair", "maintenance"]),
                channel="phone",
                lat=lat,
                lon=lon,
                address=customer.address,
                description=rng.choice(
                    [
                        "No internet since yesterday evening, router lights blink red.",
                        "Move the socket to the bedroom; customer home after 10.",
                        "New fibre connection, ONT to install, intercom code 45K.",
                        "Slow Wi-Fi upstairs; check the cable and the access point.",
                    ]
                ),
                estimated_minutes=minutes,
                window_start=None if kind == "emergency" else opens,
                window_end=None if kind == "emergency" else opens + timedelta(hours=2),
                response_due=start + timedelta(minutes=20)
                if kind == "emergency"
                else opens + timedelta(hours=2),
                priority=1 if kind == "emergency" else 3,
                status=status if status == "completed" else "assigned",
            )
            StatusChange.objects.create(
                tenant=tenant, request=request, from_status="", to_status="new"
            )
            StatusChange.objects.create(
                tenant=tenant, request=request, from_status="new", to_status=request.status
            )
            visits.append(
                Visit.objects.create(
                    tenant=tenant,
                    request=request,
                    technician=technician,
                    planned_start=start,
                    planned_end=start + timedelta(minutes=minutes),
                    travel_minutes=rng.choice([10, 15, 20]),
                    status=status,
                    accepted_at=start - timedelta(minutes=30) if status == "completed" else None,
                    arrived_at=start if status == "completed" else None,
                    finished_at=start + timedelta(minutes=minutes)
                    if status == "completed"
                    else None,
                )
            )
        session = import_module(settings.SESSION_ENGINE).SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
    first = visits[1]
    return Day(
        session=session.session_key,
        technician_id=technician.pk,
        visits=[v.pk for v in visits],
        first=first.pk,
        emergency=visits[2].pk,
        resolution=resolutions_for(first.request.category)[0][0],
        zone=zone,
    )


# ── the network ──────────────────────────────────────────────────────────────────────────────


class Throttle:
    """The slow network on a page (its own DevTools session) and on the context's service
    worker (attached from the browser's session: a page's emulation does not reach the
    worker's fetches). Records every response of the page: url, bytes, encoding."""

    def __init__(self, browser, context, page):
        self.browser, self.context, self.page = browser, context, page
        self.cdp = context.new_cdp_session(page)
        self.responses: dict[str, dict] = {}
        self.cdp.on("Network.responseReceived", self._received)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.send("Network.enable")
        self.worker_throttled: bool | None = None
        self.browser_session = None
        self.worker_sessions: dict[str, str] = {}
        self.worker_replies: list[dict] = []
        self.worker_message_id = 0

    def _received(self, event):
        response = event["response"]
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        self.responses[event["requestId"]] = {
            "url": response["url"],
            "status": response["status"],
            "encoding": headers.get("content-encoding", ""),
            "type": event.get("type", ""),
            "from_sw": response.get("fromServiceWorker", False),
            "from_cache": response.get("fromDiskCache", False),
            "bytes": None,
            "at": time.perf_counter(),
        }

    def _finished(self, event):
        row = self.responses.get(event["requestId"])
        if row is not None:
            row["bytes"] = event["encodedDataLength"]

    def slow(self) -> None:
        self.cdp.send("Network.emulateNetworkConditions", SLOW)
        self.worker_throttled = self._worker(SLOW)

    def offline(self, value: bool) -> None:
        self.context.set_offline(value)
        if not value:  # Playwright's own emulation replaced ours: put the slow network back
            self.slow()

    def _worker(self, conditions: dict) -> bool | None:
        """None when the context has no service worker yet, else whether it took the setting.
        The sessions stay open: a DevTools session that detaches takes its emulation along."""
        if self.browser_session is None:
            self.browser_session = self.browser.new_browser_cdp_session()
            self.browser_session.on(
                "Target.receivedMessageFromTarget",
                lambda event: self.worker_replies.append(json.loads(event["message"])),
            )
        session = self.browser_session
        targets = session.send("Target.getTargets")["targetInfos"]
        workers = [t for t in targets if t["type"] == "service_worker" and "/tech/" in t["url"]]
        if not workers:
            return None
        for worker in workers:
            if worker["targetId"] not in self.worker_sessions:
                attached = session.send(
                    "Target.attachToTarget", {"targetId": worker["targetId"], "flatten": False}
                )
                self.worker_sessions[worker["targetId"]] = attached["sessionId"]
                self._to_worker(attached["sessionId"], "Network.enable", {})
            self._to_worker(
                self.worker_sessions[worker["targetId"]],
                "Network.emulateNetworkConditions",
                conditions,
            )
        self.page.wait_for_timeout(100)  # the replies come as events
        return bool(self.worker_replies) and all("error" not in r for r in self.worker_replies)

    def _to_worker(self, session_id: str, method: str, params: dict) -> None:
        self.worker_message_id += 1
        message = {"id": self.worker_message_id, "method": method, "params": params}
        self.browser_session.send(
            "Target.sendMessageToTarget", {"sessionId": session_id, "message": json.dumps(message)}
        )

    def close(self) -> None:
        if self.browser_session is not None:
            self.browser_session.detach()
            self.browser_session = None

    def loaded(self, since: float | None = None) -> list[dict]:
        return [r for r in self.responses.values() if since is None or r["at"] >= since]


# ── 1. and 2. first load and cached load ─────────────────────────────────────────────────────

READY_PROBE = """
(() => {
  window.__bench = { ready: null, at: {} };
  const check = () => {
    const b = window.__bench;
    if (b.ready === null && document.querySelectorAll('[data-testid=job]').length >= %d) {
      b.ready = performance.now();
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true });
})();
"""

PHASES = """
() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const day = performance.getEntriesByType('resource')
    .find((r) => r.name.includes('/api/v1/me/day/'));
  return {
    html_response_end: nav.responseEnd, dom_content_loaded: nav.domContentLoadedEventEnd,
    day_response_end: day ? day.responseEnd : null, cards: window.__bench.ready,
  };
}
"""


def loads(browser, base: str, day: Day, rounds: int) -> dict:
    """Each round a new context: the first navigation (empty cache) and, once the service
    worker controls the page, the next one."""
    first, cached, first_bytes, tables, notes = [], [], [], [], []
    phases: dict[str, list] = {"first": [], "cached": []}
    worker_throttled = []
    for round_ in range(rounds + 1):  # one warm-up round (the server's first requests)
        context = browser.new_context(**PHONE)
        context.add_cookies([{"name": "sessionid", "value": day.session, "url": base}])
        context.add_init_script(READY_PROBE % len(day.visits))
        page = context.new_page()
        net = Throttle(browser, context, page)
        try:
            net.slow()
            page.goto(f"{base}/tech/", wait_until="commit")
            page.wait_for_function("() => window.__bench && window.__bench.ready", timeout=60_000)
            timing = page.evaluate(PHASES)
            usable = [r for r in net.loaded() if r["bytes"] is not None]
            if round_:
                first.append(timing["cards"] / 1000)
                phases["first"].append(timing)
                first_bytes.append(sum(r["bytes"] for r in usable))
                tables.append(usable)
            page.wait_for_function(
                "() => navigator.serviceWorker.controller !== null", timeout=60_000
            )
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            page.goto("about:blank")
            net.slow()  # now the worker exists: throttle it too
            worker_throttled.append(net.worker_throttled)
            since = time.perf_counter()
            page.goto(f"{base}/tech/", wait_until="commit")
            page.wait_for_function("() => window.__bench && window.__bench.ready", timeout=60_000)
            timing = page.evaluate(PHASES)
            if round_:
                cached.append(timing["cards"] / 1000)
                phases["cached"].append(timing)
                if round_ == 1:
                    notes = net.loaded(since)
        finally:
            net.close()
            context.close()
    by_url: dict[str, dict] = {}
    for row in tables[-1]:
        path = urlparse(row["url"]).path
        by_url[path] = {"bytes": row["bytes"], "encoding": row["encoding"], "type": row["type"]}
    top = sorted(by_url.items(), key=lambda item: -item[1]["bytes"])
    return {
        "first": spread(first),
        "first_bytes": {
            "p50": statistics.median(first_bytes),
            "max": max(first_bytes),
            "kb_p50": round(statistics.median(first_bytes) / 1000, 1),
        },
        "first_resources": [{"path": p, **row} for p, row in top],
        "cached": spread(cached),
        "cached_requests": [
            {
                "path": urlparse(r["url"]).path,
                "bytes": r["bytes"],
                "from_service_worker": r["from_sw"],
            }
            for r in notes
        ],
        "phases_p50_ms": {
            which: {
                key: round(statistics.median(p[key] for p in rows if p[key] is not None), 1)
                for key in rows[0]
                if any(p[key] is not None for p in rows)
            }
            for which, rows in phases.items()
        },
        "service_worker_throttled": worker_throttled,
    }


def bare_page(browser, base: str, size: int, rounds: int) -> dict:
    """One response of `size` incompressible bytes, no sub-resources, on the same network:
    the least any page of that weight can take."""
    times = []
    for round_ in range(rounds + 1):
        context = browser.new_context(**PHONE)
        page = context.new_page()
        try:
            Throttle(browser, context, page).slow()
            page.goto(f"{base}/bench/bare/page/?bytes={size}", wait_until="load")
            end = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
            if round_:
                times.append(end / 1000)
        finally:
            context.close()
    return spread(times)


def precache_bytes(port: int) -> dict:
    """What the service worker's install downloads (its shell), each as the browser would get
    it (gzip or Brotli when offered): an upper bound, as some may come from the HTTP cache."""
    from technicians.views import _shell_urls

    sizes = {}
    for path in _shell_urls():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request(
                "GET", path, headers={"Host": "localhost", "Accept-Encoding": "gzip, deflate, br"}
            )
            answer = connection.getresponse()
            sizes[path] = {
                "bytes": len(answer.read()),
                "status": answer.status,
                "encoding": answer.getheader("Content-Encoding") or "",
            }
        finally:
            connection.close()
    return {"total_kb": round(sum(s["bytes"] for s in sizes.values()) / 1000, 1), "each": sizes}


# ── 3. replay ────────────────────────────────────────────────────────────────────────────────

QUEUE = r"""
async (actions) => {
  // The outbox module the page loaded (by its hashed name in production, as app.js imports it).
  const url = performance.getEntriesByType('resource').map((e) => e.name)
    .find((name) => /\/js\/phone\/outbox[.\w]*\.js$/.test(name));
  const outbox = await import(url);
  for (const action of actions) await outbox.queue(action);
  return (await outbox.pending()).length;
}
"""

REPLAY = """
async () => {
  const started = performance.now();
  window.dispatchEvent(new Event('online'));
  for (;;) {
    if ((await window.phone.pending()).length === 0) return performance.now() - started;
    if (performance.now() - started > 60000) return null;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
"""

POST_AGAIN = """
async (actions) => {
  const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
  const outcomes = [];
  for (let i = 0; i < actions.length; i += 20) {
    const response = await fetch('/api/v1/me/actions/', {method: 'POST',
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
      body: JSON.stringify({actions: actions.slice(i, i + 20).map(({seq, ...a}) => a)})});
    outcomes.push(...(await response.json()).results.map((r) => r.outcome));
  }
  return outcomes;
}
"""


def actions_for(day: Day, total: int) -> list[dict]:
    """Steps in their order (the job under way to completed, the emergency en route, the next
    three accepted) and notes spread over the open jobs, as a morning in a basement."""
    steps = [
        {"visit": day.first, "kind": "step", "to": "accepted"},
        {"visit": day.first, "kind": "step", "to": "en_route"},
        {"visit": day.first, "kind": "step", "to": "on_site"},
        {"visit": day.first, "kind": "step", "to": "completed", "resolution": day.resolution},
        {"visit": day.emergency, "kind": "step", "to": "accepted"},
        {"visit": day.emergency, "kind": "step", "to": "en_route"},
        *({"visit": v, "kind": "step", "to": "accepted"} for v in day.visits[3:6]),
    ]
    open_jobs = day.visits[1:]
    notes = [
        {
            "visit": open_jobs[n % len(open_jobs)],
            "kind": "note",
            "note": f"Note {n + 1}: "
            + random.Random(n).choice(
                [
                    "gate code 4512",
                    "dog in the yard",
                    "call before",
                    "cable run through the attic",
                    "customer asks for a receipt",
                ]
            ),
        }
        for n in range(max(0, total - len(steps)))
    ]
    # The steps among the notes, in their own order.
    out, every = [], max(1, len(notes) // max(1, len(steps)))
    for index, step in enumerate(steps):
        out += [*notes[index * every : (index + 1) * every], step]
    return (out + notes[len(steps) * every :])[:total]


def replay(browser, base: str, day: Day, total: int) -> dict:
    from django.db.models import Count

    from core.tenancy import every_tenant
    from fieldwork.models import ClientAction
    from requests_app.models import StatusChange

    context = browser.new_context(**PHONE)
    context.add_cookies([{"name": "sessionid", "value": day.session, "url": base}])
    context.add_init_script(READY_PROBE % len(day.visits))
    page = context.new_page()
    net = None
    try:
        page.goto(f"{base}/tech/")
        page.wait_for_function("() => window.__bench.ready", timeout=60_000)
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=60_000)
        net = Throttle(browser, context, page)
        net.offline(True)
        queued_n = page.evaluate(QUEUE, actions_for(day, total))
        queued = page.evaluate("window.phone.pending()")
        ids = [a["client_id"] for a in queued]
        with every_tenant():
            changes_before = StatusChange.objects.count()
        net.offline(False)
        seconds = page.evaluate(REPLAY)
        rejected = page.evaluate(
            "async () => { const app = document.querySelector('script[type=module]').src;"
            " const o = await import(performance.getEntriesByType('resource').map((e) => e.name)"
            ".find((n) => /\\/js\\/phone\\/outbox[.\\w]*\\.js$/.test(n))); return o.rejected(); }"
        )
        with every_tenant():
            rows = ClientAction.objects.filter(technician_id=day.technician_id)
            recorded = set(str(c) for c in rows.values_list("client_id", flat=True))
            lost = [i for i in ids if i not in recorded]
            duplicated = list(
                rows.values("client_id")
                .annotate(n=Count("id"))
                .filter(n__gt=1)
                .values_list("client_id", flat=True)
            )
            outcomes = dict(Counter(rows.values_list("outcome", flat=True)))
            count_after, changes_after = rows.count(), StatusChange.objects.count()
        again = page.evaluate(POST_AGAIN, queued)
        with every_tenant():
            count_again = ClientAction.objects.filter(technician_id=day.technician_id).count()
            changes_again = StatusChange.objects.count()
    finally:
        if net is not None:
            net.close()
        context.close()
    return {
        "queued": queued_n,
        "seconds": round(seconds / 1000, 2) if seconds is not None else None,
        "lost": len(lost),
        "duplicated": len(duplicated),
        "recorded_outcomes": outcomes,
        "rejected_on_phone": rejected,
        "status_changes_written": changes_after - changes_before,
        "posted_again": {
            "outcomes": dict(Counter(again)),
            "new_client_actions": count_again - count_after,
            "new_status_changes": changes_again - changes_after,
        },
        "service_worker_throttled": net.worker_throttled,
    }


# ── 4. the customer's live ETA ───────────────────────────────────────────────────────────────

ETA_PROBE = """
(() => {
  window.__eta = [];
  const watch = () => {
    const node = document.querySelector('[data-testid=eta]');
    if (!node) return setTimeout(watch, 50);
    window.__eta.push({ text: node.textContent, at: Date.now() });
    new MutationObserver(() => window.__eta.push({ text: node.textContent, at: Date.now() }))
      .observe(node, { subtree: true, childList: true, characterData: true });
  };
  document.addEventListener('DOMContentLoaded', watch);
})();
"""

POSITION = """
async ([visit, lat, lon]) => {
  const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
  const sent = Date.now();
  const response = await fetch('/api/v1/me/location/', {method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
    body: JSON.stringify({visit, lat, lon, accuracy: 12})});
  return { sent, status: response.status, answer: await response.json() };
}
"""


def eta(browser, base: str, day: Day, posts: int, pages_n: int) -> dict:
    from core.tenancy import every_tenant
    from fieldwork.links import live_url
    from technicians.models import Visit

    with every_tenant():
        visit = Visit.objects.select_related("request").get(pk=day.emergency)
        if visit.status != "en_route":
            raise RuntimeError(f"the emergency is {visit.status}, not en route")
        link = urlparse(live_url(visit)).path
        destination = (visit.request.lat, visit.request.lon)
    far = (destination[0] + 0.09, destination[1] + 0.05)  # ~11 km
    near = (destination[0] + 0.012, destination[1] + 0.006)  # ~1.5 km
    rng = random.Random(SEED)

    phone_context = browser.new_context(**PHONE)
    phone_context.add_cookies([{"name": "sessionid", "value": day.session, "url": base}])
    phone = phone_context.new_page()
    phone.goto(f"{base}/tech/")
    phone_net = Throttle(browser, phone_context, phone)
    phone_net.slow()
    first = phone.evaluate(POSITION, [day.emergency, *far])
    if first["status"] != 200:
        raise RuntimeError(f"location answered {first['status']}: {first['answer']}")
    customers = []
    try:
        # Pages opened a poll interval apart / pages: their polls fall at spread phases.
        for n in range(pages_n):
            context = browser.new_context(**PHONE)
            context.add_init_script(ETA_PROBE)
            page = context.new_page()
            Throttle(browser, context, page).slow()
            page.goto(f"{base}{link}")
            customers.append((context, page))
            if n < pages_n - 1:
                time.sleep(LIVE_POLL_MS / 1000 / pages_n)
        delays, missed, answers = [], 0, []
        for round_ in range(posts):
            time.sleep(1.1 + rng.uniform(0, LIVE_POLL_MS / 1000 / pages_n))
            shown = [page.evaluate("() => window.__eta.at(-1).text") for _, page in customers]
            where = near if round_ % 2 == 0 else far
            post = phone.evaluate(POSITION, [day.emergency, *where])
            answers.append({"status": post["status"], **post["answer"]})
            deadline = time.monotonic() + LIVE_POLL_MS / 1000 + 10
            pending = set(range(len(customers)))
            while pending and time.monotonic() < deadline:
                for index in list(pending):
                    changes = customers[index][1].evaluate("() => window.__eta")
                    change = next(
                        (
                            c
                            for c in changes
                            if c["at"] >= post["sent"] and c["text"] != shown[index]
                        ),
                        None,
                    )
                    if change:
                        delays.append((change["at"] - post["sent"]) / 1000)
                        pending.discard(index)
                time.sleep(0.05)
            missed += len(pending)
    finally:
        for context, _page in customers:
            context.close()
        phone_net.close()
        phone_context.close()
    # An update waits for the next poll: uniform over the interval, plus the poll's own fetch.
    return {
        **spread(delays),
        "missed": missed,
        "pages": pages_n,
        "posts": posts,
        "poll_ms": LIVE_POLL_MS,
        "baseline_uniform_poll_p50_ms": LIVE_POLL_MS * 0.5,
        "baseline_uniform_poll_p95_ms": LIVE_POLL_MS * 0.95,
        "answers": answers,
        "note": "customer pages throttled like the phone; the phone's post also crosses the "
        "slow network; delay = post sent (phone's Date.now()) → ETA text changed on the "
        "customer's page (its Date.now())",
    }


# ── the run ──────────────────────────────────────────────────────────────────────────────────


def rows(result: dict) -> list[tuple]:
    """(metric, value, baseline, target, met)."""
    ld, bare, rp, et = result["loads"], result["bare_page"], result["replay"], result["eta"]
    kb = ld["first_bytes"]["kb_p50"]
    return [
        (
            "first_load_ms p50 / p95",
            f"{ld['first']['p50_ms']} / {ld['first']['p95_ms']}",
            f"{bare['p50_ms']} / {bare['p95_ms']}",
            f"≤ {TARGETS['first_load_ms']}",
            (ld["first"]["p95_ms"] or 1e9) <= TARGETS["first_load_ms"],
        ),
        (
            "first_load_kb",
            kb,
            f"{kb} (bare)",
            f"≤ {TARGETS['first_load_kb']}",
            kb <= TARGETS["first_load_kb"],
        ),
        (
            "cached_load_ms p50 / p95",
            f"{ld['cached']['p50_ms']} / {ld['cached']['p95_ms']}",
            "",
            f"≤ {TARGETS['cached_load_ms']}",
            (ld["cached"]["p95_ms"] or 1e9) <= TARGETS["cached_load_ms"],
        ),
        (f"replay_s ({rp['queued']} actions)", rp["seconds"], "", "", None),
        ("lost", rp["lost"], "", "0", rp["lost"] == 0),
        ("duplicated", rp["duplicated"], "", "0", rp["duplicated"] == 0),
        (
            "posted again: new rows",
            rp["posted_again"]["new_client_actions"] + rp["posted_again"]["new_status_changes"],
            "",
            "0",
            rp["posted_again"]["new_client_actions"] + rp["posted_again"]["new_status_changes"]
            == 0,
        ),
        (
            "eta_update_ms p50 / p95",
            f"{et['p50_ms']} / {et['p95_ms']}",
            f"{et['baseline_uniform_poll_p50_ms']:.0f} / {et['baseline_uniform_poll_p95_ms']:.0f}",
            "",
            None,
        ),
    ]


def table(result: dict) -> str:
    lines = [f"{'metric':28} {'value':>17} {'baseline':>17} {'target':>8}  met"]
    for metric, value, base, target, met in rows(result):
        mark = "" if met is None else ("✓" if met else "✗")
        lines.append(f"{metric:28} {value!s:>17} {base!s:>17} {target!s:>8}  {mark}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.mobile", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="first and cached loads")
    parser.add_argument("--actions", type=int, default=50)
    parser.add_argument("--eta-posts", type=int, default=4)
    parser.add_argument("--eta-pages", type=int, default=4)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    began, load_at_start = time.time(), os.getloadavg()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    database_url, redis_url = bench_stores(DB_NAME, BENCH_REDIS_DB, channels=True)
    logs = Path(tempfile.mkdtemp(prefix="mobile-"))
    port = free_port()
    base = f"http://localhost:{port}"
    env = bench_env(
        database_url,
        redis_url,
        MAP_TILE_URL="none",
        BENCH_STATIC_ROOT=str(logs / "static"),
        WS_ALLOWED_ORIGINS=f"http://localhost,{base}",
        PUBLIC_BASE_URL=base,
        LOCATION_MIN_INTERVAL_SECONDS="1",
    )
    os.environ.update(env)
    server_version = bench_django(DB_NAME)
    from django.db import connection
    from django.utils import timezone

    migrated = time.time()
    from core.tenancy import every_tenant

    with every_tenant():
        day = seed(timezone.now())
    analyze()
    connection.close()
    print(f"· seeded: {len(day.visits)} visits, tenant zone {day.zone}", flush=True)

    result: dict = {}
    server = None
    try:
        server = uvicorn_start(env, port, logs)
        with chromium() as browser:
            result["loads"] = loads(browser, base, day, args.rounds)
            print("· first and cached loads measured", flush=True)
            result["bare_page"] = bare_page(
                browser, base, int(result["loads"]["first_bytes"]["p50"]), args.rounds
            )
            result["precache"] = precache_bytes(port)
            result["replay"] = replay(browser, base, day, args.actions)
            print(f"· replay measured: {result['replay']['seconds']} s", flush=True)
            result["eta"] = eta(browser, base, day, args.eta_posts, args.eta_pages)
    finally:
        stop(server)
        queue_purge(redis_url, channels=True)
    connection.close()

    ld, rp, et = result["loads"], result["replay"], result["eta"]
    output = {
        "benchmark": "mobile",
        "description": "the technician's phone on an emulated slow network (400 kbit/s, 400 ms "
        "round trip) in Chromium: first load, load from the service worker's cache, a replay of "
        "queued actions, the customer's live ETA after a position post",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "first_load_ms": {
            "p50": ld["first"]["p50_ms"],
            "p95": ld["first"]["p95_ms"],
            "bare_page_p50": result["bare_page"]["p50_ms"],
            "bare_page_p95": result["bare_page"]["p95_ms"],
        },
        "first_load_kb": ld["first_bytes"]["kb_p50"],
        "cached_load_ms": {"p50": ld["cached"]["p50_ms"], "p95": ld["cached"]["p95_ms"]},
        "replay_s": rp["seconds"],
        "lost": rp["lost"],
        "duplicated": rp["duplicated"],
        "eta_update_ms": {
            "p50": et["p50_ms"],
            "p95": et["p95_ms"],
            "poll_ms": LIVE_POLL_MS,
            "missed": et["missed"],
        },
        "target": {
            "first_load_ms": {
                "value": TARGETS["first_load_ms"],
                "met": (ld["first"]["p95_ms"] or 1e9) <= TARGETS["first_load_ms"],
                "measured": "p95",
            },
            "first_load_kb": {
                "value": TARGETS["first_load_kb"],
                "met": ld["first_bytes"]["kb_p50"] <= TARGETS["first_load_kb"],
            },
            "cached_load_ms": {
                "value": TARGETS["cached_load_ms"],
                "met": (ld["cached"]["p95_ms"] or 1e9) <= TARGETS["cached_load_ms"],
                "measured": "p95",
            },
            "lost": {"value": 0, "met": rp["lost"] == 0},
            "duplicated": {"value": 0, "met": rp["duplicated"] == 0},
        },
        "details": result,
        "machine": machine(load_at_start, server_version, database_url),
        "parameters": {
            "network": {**SLOW, "kbit_per_s": KBIT},
            "rounds": args.rounds,
            "actions": args.actions,
            "eta_posts": args.eta_posts,
            "eta_pages": args.eta_pages,
            "visits": len(day.visits),
            "tenant_zone": day.zone,
            "server": "one uvicorn (HTTP and /ws/, CONN_MAX_AGE=0); DEBUG off; static files by "
            "WhiteNoise (CompressedManifestStaticFilesStorage); no Celery worker; "
            "LOCATION_MIN_INTERVAL_SECONDS=1",
            "browser": "Debian Chromium /usr/bin/chromium, 390×844, is_mobile",
        },
        "durations_s": {
            "migrate_and_static": round(migrated - began, 1),
            "total": round(time.time() - began, 1),
        },
        "logs": str(logs),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2) + "\n")
    print()
    print(table(result))
    print("\nfirst load, by resource (bytes on the wire, encoding):")
    for row in ld["first_resources"][:10]:
        print(f"  {row['bytes']:>8}  {row['encoding'] or '-':5} {row['path']}")
    print(f"service worker precache (upper bound): {result['precache']['total_kb']} kB")
    print(f"\nwrote {args.output} in {time.time() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
