"""Intake throughput: booking a planned request in its agreed window, beside a bare DRF create.

    python -m bench.intake [--seconds 20] [--warmup 3] [--clients 8] [--rounds 3]
                           [--technicians 100] [--days 7] [--booked 3] [--customers 2000]
                           [--no-windows]
    make bench-intake   # = python -m devtools.devstack run --profile bench -- <the above>

It runs against whatever DATABASE_URL / REDIS_URL are set (`devtools.devstack run` starts an
embedded PostgreSQL and Redis when they are not). On that server it drops and re-creates the
database `dispatch_bench`, migrates it with `bench.settings` and seeds one tenant: technicians
with 2–4 of 5 skills and homes around Almaty, shifts 08:00–20:00 local (an hour for lunch) on
each of the next `--days` days, `--booked` visits already booked per technician and day, and
customers. Redis database `BENCH_REDIS_DB` of the same server is used and emptied on exit.

It then starts gunicorn (2 sync workers, as in production) on 127.0.0.1 and, in rounds, loads
each endpoint in turn with `--clients` concurrent clients in a closed loop (each sends its next
request when the last is answered) for `--seconds`, after `--warmup` seconds that are not
counted:

- **bare**: `POST /bench/bare/customers/` (bench/urls.py): the product's authentication and
  permission, a plain `Serializer` of five fields, one `Customer` row inserted in a transaction;
- **product**: `POST /api/v1/requests/`: a planned request with an agreed 2-hour window, a new
  `Idempotency-Key` each time, validated, stored with its status change and live event, booked
  against capacity (a visit with a qualified technician who can reach it in the window; 409 when
  nobody can) and confirmed to the customer through the outbox. Windows are spread over the days,
  the six windows of a day, the customers and the skills;
- **windows** (informational, not in the ratio): `GET /api/v1/windows/` for one day.

Throughput counts successful answers (201, or 200 for windows) per second; latencies are over
every answer. Rounds alternate the endpoints and the medians over the rounds are reported,
because the machine is shared and noisy. No Celery worker runs: what the product enqueues for
later (the outbox delivery, the debounced day re-plan) waits in Redis, as it would for a busy
worker, and is dropped on exit. Afterwards it checks that every 201 holds a visit inside its
window, and counts the queries one request of each kind makes (in-process, on the same data).
Prints a table and writes `bench/results/intake.json` (`--output`). Everything it starts is
stopped on exit, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from urllib.parse import urlencode

from bench.emergency_loop import (
    LockSampler,
    _cpu_seconds,
    _descendants,
    _die_with_parent,
    _machine_busy,
    _parents,
    _postgres_backends,
    analyze,
    bench_env,
    bench_stores,
    machine,
    percentile,
    queue_purge,
    seed_crew,
)
from devtools.devstack import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = Path(__file__).parent / "results" / "intake.json"
DB_NAME = "dispatch_bench"  # bench.emergency_loop's: its process and lock meters look for it
BENCH_REDIS_DB = 13
TARGET_RATIO = 0.60
SEED = 3
WINDOW_HOURS = (8, 10, 12, 14, 16, 18)  # the tenant's 2-hour grid within the 08–20 shifts
PATHS = {
    "bare": "/bench/bare/customers/",
    "product": "/api/v1/requests/",
    "windows": "/api/v1/windows/",
}


# ── seeding ──────────────────────────────────────────────────────────────────────────────────


@dataclass
class Seeded:
    token: str
    zone: str
    customers: list[tuple[int, float, float]]  # id, lat, lon
    skill_codes: list[str]
    days: list[date]
    counts: dict


def seed(*, technicians: int, days: int, booked: int, customers: int) -> Seeded:
    """Bulk rows, not the per-row services: what matters is the state, not how it was made."""
    from django.db import transaction
    from django.utils import timezone
    from knox.models import AuthToken

    from dispatch.management.commands.seed_demo import FIRST, LAST, STREETS, near
    from requests_app.models import Customer, ServiceRequest
    from technicians.models import Shift, Visit

    rng = random.Random(SEED)
    with transaction.atomic():
        tenant, skills, dispatcher, crew, _owned = seed_crew(rng, technicians)
        zone = tenant.zone
        people = Customer.objects.bulk_create(
            [
                Customer(
                    tenant=tenant,
                    name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    phone=f"+7701{rng.randint(1000000, 9999999)}",
                    address=f"{rng.choice(STREETS)} {rng.randint(1, 250)}, Almaty",
                    lat=lat,
                    lon=lon,
                )
                for lat, lon in (near(rng, 10) for _ in range(customers))
            ]
        )
        today = timezone.localdate(timezone=zone)
        calendar = [today + timedelta(days=offset) for offset in range(1, days + 1)]
        shifts, requests, visits = [], [], []
        for day in calendar:
            for technician in crew:
                shifts.append(
                    Shift(
                        tenant=tenant,
                        technician=technician,
                        date=day,
                        start=datetime.combine(day, clock(8), tzinfo=zone),
                        end=datetime.combine(day, clock(20), tzinfo=zone),
                        lunch_minutes=60,
                    )
                )
                # Already booked: one visit in each of `booked` distinct windows, each starting
                # in its window's first hour, so no two overlap.
                for hour in rng.sample(WINDOW_HOURS, booked):
                    window_start = datetime.combine(day, clock(hour), tzinfo=zone)
                    start = window_start + timedelta(minutes=rng.choice([0, 15, 30, 45, 60]))
                    minutes = rng.choice([30, 45, 60])
                    customer = rng.choice(people)
                    requests.append(
                        ServiceRequest(
                            tenant=tenant,
                            customer=customer,
                            kind=ServiceRequest.Kind.PLANNED,
                            category=rng.choice(["installation", "repair", "maintenance"]),
                            channel=ServiceRequest.Channel.PHONE,
                            lat=customer.lat,
                            lon=customer.lon,
                            address=customer.address,
                            estimated_minutes=minutes,
                            window_start=window_start,
                            window_end=window_start + timedelta(hours=2),
                            response_due=window_start + timedelta(hours=2),
                            priority=3,
                            status="assigned",
                        )
                    )
                    visits.append((technician, start, minutes))
        Shift.objects.bulk_create(shifts)
        requests = ServiceRequest.objects.bulk_create(requests)
        Visit.objects.bulk_create(
            [
                Visit(
                    tenant=tenant,
                    request=request,
                    technician=technician,
                    planned_start=start,
                    planned_end=start + timedelta(minutes=minutes),
                    travel_minutes=10,
                )
                for request, (technician, start, minutes) in zip(requests, visits, strict=True)
            ]
        )
        token = AuthToken.objects.create(dispatcher)[1]
    return Seeded(
        token=token,
        zone=tenant.time_zone,
        customers=[(c.pk, c.lat, c.lon) for c in people],
        skill_codes=[s.code for s in skills],
        days=calendar,
        counts={
            "technicians": len(crew),
            "days": len(calendar),
            "shifts": len(shifts),
            "visits_booked_before": len(requests),
            "customers": len(people),
        },
    )


# ── the server ───────────────────────────────────────────────────────────────────────────────


class Server:
    """gunicorn on loopback, as in production (sync workers, persistent DB connections)."""

    def __init__(self, env: dict, logs: Path, workers: int):
        self.env, self.logs, self.workers = env, logs, workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            str(BIN / "gunicorn"),
            "config.wsgi:application",
            "-w",
            str(self.workers),
            "-b",
            f"127.0.0.1:{self.port}",
            "--log-level",
            "warning",
        ]
        with open(self.logs / "gunicorn.out", "ab") as output:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        wait_for_port(self.port, process=self.process, timeout=40)

    def pids(self) -> list[int]:
        return _descendants(self.process.pid, _parents()) if self.process else []

    def check(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.logs}")

    def stop(self) -> None:
        if self.process is None:
            return
        tree = self.pids()
        with contextlib.suppress(ProcessLookupError):
            self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        alive = _parents()
        for pid in tree:
            if pid in alive:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=2)
        self.process = None


# ── load ─────────────────────────────────────────────────────────────────────────────────────


class Requests:
    """Raw HTTP/1.1 requests, one per call, spread over customers, days, windows and skills."""

    def __init__(self, seeded: Seeded, port: int):
        from zoneinfo import ZoneInfo

        self.seeded, self.port = seeded, port
        self.zone = ZoneInfo(seeded.zone)
        self.rng = random.Random(SEED + 1)
        self.count = 0

    def _raw(self, method: str, path: str, body: dict | None, extra: dict) -> bytes:
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "Authorization": f"Token {self.seeded.token}",
            "Accept": "application/json",
            "Connection": "close",
            **extra,
        }
        payload = b""
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(len(payload))
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        return f"{method} {path} HTTP/1.1\r\n{head}\r\n".encode() + payload

    def bare(self) -> bytes:
        self.count += 1
        _, lat, lon = self.rng.choice(self.seeded.customers)
        body = {
            "name": f"Bench customer {self.count}",
            "phone": f"+7702{self.rng.randint(1000000, 9999999)}",
            "address": "Abay Ave 10, Almaty",
            "lat": lat,
            "lon": lon,
        }
        return self._raw("POST", PATHS["bare"], body, {})

    def product(self) -> bytes:
        rng = self.rng
        customer, _, _ = rng.choice(self.seeded.customers)
        day = rng.choice(self.seeded.days)
        start = datetime.combine(day, clock(rng.choice(WINDOW_HOURS)), tzinfo=self.zone)
        body = {
            "kind": "planned",
            "category": rng.choice(["installation", "relocation", "repair", "maintenance"]),
            "channel": "api",
            "customer": customer,
            "description": "Benchmark booking",
            "estimated_minutes": rng.choice([30, 45, 60]),
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(hours=2)).isoformat(),
            "required_skills": [rng.choice(self.seeded.skill_codes)] if rng.random() < 0.5 else [],
        }
        return self._raw("POST", PATHS["product"], body, {"Idempotency-Key": uuid.uuid4().hex})

    def windows(self) -> bytes:
        rng = self.rng
        customer, _, _ = rng.choice(self.seeded.customers)
        day = rng.choice(self.seeded.days).isoformat()
        query = {"customer": customer, "minutes": 45, "date_from": day, "date_to": day}
        return self._raw("GET", f"{PATHS['windows']}?{urlencode(query)}", None, {})


@dataclass
class Answer:
    seconds: float
    status: int
    error: str = ""


async def exchange(port: int, raw: bytes, timeout: float = 30) -> tuple[int, str]:
    """Send one request on a new connection (gunicorn's sync workers close it after each
    answer) and read the answer to the end; (status, error)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
        try:
            writer.write(raw)
            answer = await asyncio.wait_for(reader.read(), timeout)
        finally:
            writer.close()
    except (OSError, TimeoutError) as error:
        return 0, f"{type(error).__name__}: {error}"[:80]
    try:
        return int(answer.split(b" ", 2)[1]), ""
    except (IndexError, ValueError):
        return 0, f"unreadable answer: {answer[:60]!r}"


async def closed_loop(port: int, make, clients: int, seconds: float) -> tuple[list, float]:
    """`clients` loops, each sending its next request when the last is answered. Answers that
    arrive after `seconds` are not counted; returns the counted answers and the span."""
    answers: list[Answer] = []
    started = time.perf_counter()
    deadline = started + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            raw = make()
            sent = time.perf_counter()
            status, error = await exchange(port, raw)
            done = time.perf_counter()
            if done <= deadline:
                answers.append(Answer(done - sent, status, error))

    await asyncio.gather(*(client() for _ in range(clients)))
    return answers, seconds


# ── measuring ────────────────────────────────────────────────────────────────────────────────


class CpuMeter:
    """CPU seconds of gunicorn (all workers), the bench database's backends and this client."""

    def __init__(self, server: Server):
        self.server = server

    def snapshot(self) -> dict:
        return {
            "gunicorn": _cpu_seconds(self.server.pids()),
            "postgres": _cpu_seconds(_postgres_backends()),
            "client": _cpu_seconds([os.getpid()]),
            "_machine": _machine_busy(),
            "_wall": time.time(),
        }

    @staticmethod
    def cores(before: dict, after: dict) -> dict:
        wall = after["_wall"] - before["_wall"]
        used = {
            name: round(
                sum(s - before[name].get(pid, 0) for pid, s in after[name].items()) / wall, 2
            )
            for name in ("gunicorn", "postgres", "client")
        }
        busy = after["_machine"][0] - before["_machine"][0]
        total = after["_machine"][1] - before["_machine"][1]
        used["machine_busy"] = round(busy / total * (os.cpu_count() or 1), 2) if total else None
        return used


SUCCESS = {"bare": 201, "product": 201, "windows": 200}


def summarize(kind: str, answers: list[Answer], seconds: float) -> dict:
    times = [a.seconds for a in answers]
    statuses = Counter(str(a.status) for a in answers)
    errors = Counter(a.error for a in answers if a.error)
    ms = lambda value: round(value * 1000, 2)  # noqa: E731
    return {
        "rps": round(statuses.get(str(SUCCESS[kind]), 0) / seconds, 1),
        "answered_rps": round(len(answers) / seconds, 1),
        "p50_ms": ms(percentile(times, 0.50)) if times else None,
        "p90_ms": ms(percentile(times, 0.90)) if times else None,
        "p99_ms": ms(percentile(times, 0.99)) if times else None,
        "mean_ms": ms(statistics.fmean(times)) if times else None,
        "answers": len(answers),
        "status_counts": dict(statuses),
        **({"errors": dict(errors.most_common(5))} if errors else {}),
    }


async def measure(args, server: Server, seeded: Seeded, sampler: LockSampler) -> list[dict]:
    maker = Requests(seeded, server.port)
    kinds = ["bare", "product"] + ([] if args.no_windows else ["windows"])
    meter, runs = CpuMeter(server), []
    for round_number in range(1, args.rounds + 1):
        for kind in kinds:
            make = getattr(maker, kind)
            await closed_loop(server.port, make, args.clients, args.warmup)
            server.check()
            before, started = meter.snapshot(), time.time()
            answers, seconds = await closed_loop(server.port, make, args.clients, args.seconds)
            ended, after = time.time(), meter.snapshot()
            server.check()
            run = {
                "round": round_number,
                "kind": kind,
                **summarize(kind, answers, seconds),
                "cpu_cores": meter.cores(before, after),
                "locks": sampler.summary(started, ended),
            }
            runs.append(run)
            print(
                f"· round {round_number} {kind:<8} {run['rps']:>7.1f}/s  p50 {run['p50_ms']} ms"
                f"  p99 {run['p99_ms']} ms  {run['status_counts']}",
                flush=True,
            )
    return runs


def medians(runs: list[dict], kind: str) -> dict:
    mine = [run for run in runs if run["kind"] == kind]
    if not mine:
        return {}
    pick = lambda key: round(statistics.median(run[key] for run in mine), 2)  # noqa: E731
    return {key: pick(key) for key in ("rps", "answered_rps", "p50_ms", "p90_ms", "p99_ms")}


# ── checks after the run ─────────────────────────────────────────────────────────────────────


def bookings_check() -> dict:
    """Every planned request the API accepted holds a live visit inside its agreed window."""
    from django.db.models import F

    from requests_app.models import ServiceRequest
    from technicians.models import Visit

    accepted = ServiceRequest.objects.filter(channel=ServiceRequest.Channel.API)
    live = Visit.objects.filter(request__in=accepted, status__in=Visit.ACTIVE)
    return {
        "requests_accepted": accepted.count(),
        "with_a_visit": live.values("request").distinct().count(),
        "visits_outside_window": live.filter(planned_start__lt=F("request__window_start")).count()
        + live.filter(planned_start__gt=F("request__window_end")).count(),
    }


def queries_per_request(seeded: Seeded, samples: int = 20) -> dict:
    """Queries and in-process time of one request of each kind, through Django's test client
    on the bench database (after the runs: the days are as full as the load left them)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    maker = Requests(seeded, 0)
    client = Client(HTTP_AUTHORIZATION=f"Token {seeded.token}", SERVER_NAME="localhost")
    out = {}
    for kind in ("bare", "product", "windows"):
        counts, times, statuses = [], [], Counter()
        for _ in range(samples):
            raw = getattr(maker, kind)()
            head, _, body = raw.partition(b"\r\n\r\n")
            method, path = head.split(b" ", 2)[:2]
            extra = {}
            if b"Idempotency-Key" in head:
                extra["HTTP_IDEMPOTENCY_KEY"] = uuid.uuid4().hex
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                if method == b"GET":
                    response = client.get(path.decode(), **extra)
                else:
                    response = client.post(
                        path.decode(), body, content_type="application/json", **extra
                    )
                times.append(time.perf_counter() - started)
            counts.append(len(queries))
            statuses[str(response.status_code)] += 1
        out[kind] = {
            "queries_median": statistics.median(counts),
            "queries_max": max(counts),
            "in_process_ms_median": round(statistics.median(times) * 1000, 2),
            "status_counts": dict(statuses),
        }
    return out


# ── the run ──────────────────────────────────────────────────────────────────────────────────


def table(summary: dict, runs: list[dict]) -> str:
    lines = [f"{'endpoint':<36} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  answers"]
    for kind in ("bare", "product", "windows"):
        row = summary.get(kind)
        if not row:
            continue
        counts = Counter()
        for run in runs:
            if run["kind"] == kind:
                counts.update(run["status_counts"])
        method = "GET " if kind == "windows" else "POST"
        lines.append(
            f"{kind + ' ' + method + ' ' + PATHS[kind]:<36} {row['rps']:>8.1f} "
            f"{row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f}  {dict(counts)}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.intake", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="measured, per run")
    parser.add_argument("--warmup", type=float, default=3, help="not counted, before each run")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--technicians", type=int, default=100)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--booked", type=int, default=3, help="visits per technician and day")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--no-windows", action="store_true", help="skip GET /api/v1/windows/")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not 0 <= args.booked <= len(WINDOW_HOURS):
        parser.error(f"--booked is 0 to {len(WINDOW_HOURS)}")
    began, load_at_start = time.time(), os.getloadavg()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    database_url, redis_url = bench_stores(DB_NAME, BENCH_REDIS_DB)
    env = bench_env(database_url, redis_url)
    os.environ.update(env)
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    print(f"· migrating {DB_NAME} (PostgreSQL {server_version})", flush=True)
    call_command("migrate", verbosity=0)
    migrated = time.time()
    seeded = seed(
        technicians=args.technicians, days=args.days, booked=args.booked, customers=args.customers
    )
    analyze()
    connection.close()
    seeded_at = time.time()
    print(f"· seeded in {seeded_at - migrated:.1f} s: {seeded.counts}", flush=True)

    logs = Path(tempfile.mkdtemp(prefix="intake-"))
    server = Server(env, logs, args.workers)
    sampler = LockSampler(database_url)
    try:
        server.start()
        print(f"· gunicorn -w {args.workers} on :{server.port}; logs in {logs}", flush=True)
        sampler.start()
        runs = asyncio.run(measure(args, server, seeded, sampler))
    finally:
        sampler.stop()
        server.stop()
        queue_purge(redis_url)
    measured_at = time.time()
    bookings = bookings_check()
    queries = queries_per_request(seeded)
    connection.close()

    summary = {kind: medians(runs, kind) for kind in ("bare", "product", "windows")}
    bare, product = summary["bare"], summary["product"]
    ratio = round(product["rps"] / bare["rps"], 3) if bare.get("rps") else None
    status_counts = {}
    for run in runs:
        status_counts.setdefault(run["kind"], Counter()).update(run["status_counts"])
    per_round = [
        round(p["rps"] / b["rps"], 3)
        for b, p in zip(
            (r for r in runs if r["kind"] == "bare"),
            (r for r in runs if r["kind"] == "product"),
            strict=True,
        )
        if b["rps"]
    ]
    result = {
        "benchmark": "intake",
        "description": "POST /api/v1/requests/ (planned, agreed window booked against capacity, "
        "Idempotency-Key) vs a bare DRF create (POST /bench/bare/customers/), same gunicorn, "
        "same run, closed loop",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "product_rps": product["rps"],
        "bare_rps": bare["rps"],
        "ratio": ratio,
        "ratio_per_round": per_round,
        "product_p50_ms": product["p50_ms"],
        "product_p99_ms": product["p99_ms"],
        "bare_p50_ms": bare["p50_ms"],
        "bare_p99_ms": bare["p99_ms"],
        "windows": summary["windows"] or None,
        "target": {"ratio": TARGET_RATIO, "met": bool(ratio and ratio >= TARGET_RATIO)},
        "status_counts": {kind: dict(counts) for kind, counts in status_counts.items()},
        "bookings": bookings,
        "queries_per_request": queries,
        "machine": machine(load_at_start, server_version, database_url),
        "parameters": {
            "seconds": args.seconds,
            "warmup_s": args.warmup,
            "clients": args.clients,
            "rounds": args.rounds,
            "order": [run["kind"] for run in runs if run["round"] == 1],
            "server": f"gunicorn -w {args.workers} (sync), persistent DB connections, "
            "DEBUG off; no Celery worker",
            "load": "closed loop, one new connection per request (sync workers close it)",
            "rps_counts": "successful answers (201; 200 for windows) per second",
            **seeded.counts,
        },
        "runs": runs,
        "durations_s": {
            "migrate": round(migrated - began, 1),
            "seed": round(seeded_at - migrated, 1),
            "load": round(measured_at - seeded_at, 1),
            "total": round(time.time() - began, 1),
        },
        "logs": str(logs),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(table(summary, runs))
    print(
        f"\nratio product/bare = {ratio} (per round {per_round}; target ≥ {TARGET_RATIO}); "
        f"bookings {bookings}; wrote {args.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
