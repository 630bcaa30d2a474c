"""The emergency loop, end to end: POST an emergency → assignment committed → event on a socket.

    python -m bench.emergency_loop [--rates 5,20] [--seconds 30] [--technicians 300] [--jobs 3000]
    make bench-emergency   # = python -m devtools.devstack run --profile bench -- <the above>

It runs against whatever DATABASE_URL / REDIS_URL are set (`devtools.devstack run` starts an
embedded PostgreSQL and Redis when they are not). On that server it drops and re-creates the
database `dispatch_bench`, migrates it with `bench.settings`, and seeds one tenant: technicians
with skills and homes around Almaty, shifts covering now ± 8 h, open planned jobs with agreed
windows (90 % already scheduled as non-overlapping visits filling the rest of each technician's
day, the rest waiting), and customers to raise emergencies for. Redis database
`BENCH_REDIS_DB` of the same server is used, so a development stack's queues are not touched.

It then starts the production topology on 127.0.0.1 — gunicorn (2 sync workers) for HTTP,
uvicorn for /ws/, a Celery worker (`-Q assign,plan,notify,default -c 2`; no beat) — opens one
dispatcher WebSocket, and for each rate runs, one after the other (the worker is restarted with
empty queues before each rate, so no run inherits another's backlog):

- **bare**: `POST /bench/bare/` (bench/urls.py: token auth, one `Event` written through
  `event_emit` in a transaction, pushed after commit; no Celery, no assignment), measured from
  the POST to that event on the socket;
- **product**: `POST /api/v1/requests/` with an emergency, measured from the POST to the event
  that shows the request `assigned` (or `escalated`) on the socket.

POSTs are sent open-loop at the rate (a thread pool, so a slow answer does not delay the
schedule). An event that does not arrive within `--grace` seconds of the last POST counts as not
received, and as infinitely late in the percentiles (a percentile that falls there is null).
Besides the latencies it records where the product's time goes: server timestamps of the
`request.created` and `assigned` events, Celery task run times (worker log), gunicorn request
times (access log), lock waits sampled from pg_stat_activity, and CPU seconds per process.
The day re-plan that each assignment schedules is pushed out of the run unless `--replan` (see
REPLAN_OFF). Prints a table and writes `bench/results/emergency_loop.json` (`--output`). Every
process it started is stopped on exit, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import math
import os
import platform
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from devtools.devstack import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = Path(__file__).parent / "results" / "emergency_loop.json"
DB_NAME = "dispatch_bench"
BENCH_REDIS_DB = 12
QUEUES = ("assign", "plan", "notify", "default")
BARE_KIND = "bench.bare"  # bench.urls.BARE_KIND; not imported: that module needs Django set up
FINAL = ("assigned", "escalated")
TARGET_P99_MS, STRETCH_P99_MS = 250, 150
SEED = 11
EMERGENCY_CUSTOMERS = 500
DAY_AHEAD = timedelta(hours=7, minutes=30)  # visits fill [now − 30 min, now + 7 h 30 min]
DAY_BEHIND = timedelta(minutes=30)
SHIFT_HALF = timedelta(hours=8)
# Every assignment asks for a day re-plan 20 s later (`replan_soon`). At this size that re-plan
# grows past 20 GB and is OOM-killed (one PyVRP routing profile per technician with pinned work,
# each a full matrix copy), so by default the bench pushes it a day away and measures the
# emergency loop alone; `--replan` keeps it.
REPLAN_OFF = {"PLAN_DEBOUNCE_SECONDS": "86400"}


# ── database and Redis ───────────────────────────────────────────────────────────────────────


def bench_urls(database_url: str, redis_url: str) -> tuple[str, str]:
    database = urlparse(database_url)._replace(path=f"/{DB_NAME}")
    redis = urlparse(redis_url)._replace(path=f"/{BENCH_REDIS_DB}")
    return urlunparse(database), urlunparse(redis)


def pg_connect(database_url: str, dbname: str):
    import dj_database_url
    import psycopg2

    config = dj_database_url.parse(database_url)
    return psycopg2.connect(
        dbname=dbname,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        application_name="bench-emergency-loop",
    )


def database_recreate(database_url: str) -> str:
    connection = pg_connect(database_url, "postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DB_NAME}")
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    connection.close()
    return version


def queue_purge(redis_url: str, *, channels: bool = False) -> None:
    """Forget queued tasks and pending re-plan debounces (and, at the start, channel-layer
    groups: a socket that died without leaving stays a member, and overflows, for a day)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(*QUEUES, "unacked", "unacked_index", "unacked_mutex")
        for pattern in ("dispatch:replan:*", "dispatch:ws*" if channels else None):
            keys = list(client.scan_iter(pattern)) if pattern else []
            if keys:
                client.delete(*keys)
    finally:
        client.close()


# ── seeding ──────────────────────────────────────────────────────────────────────────────────


@dataclass
class Seeded:
    tenant_id: int
    token: str
    session_key: str
    customer_ids: list[int]
    skill_codes: list[str]
    counts: dict


def bench_stores(database: str, redis_db: int, *, channels: bool = False) -> tuple[str, str]:
    """(database URL, Redis URL) of a benchmark's own: its database made afresh on the server of
    DATABASE_URL, its own Redis database on the server of REDIS_URL, emptied of queued work."""
    from urllib.parse import urlparse, urlunparse

    from devtools.devstack import recreate_database

    database_url = recreate_database(
        os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/dispatch", database
    )
    redis_url = urlunparse(
        urlparse(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")._replace(
            path=f"/{redis_db}"
        )
    )
    queue_purge(redis_url, channels=channels)
    return database_url, redis_url


def bench_django(database: str) -> str:
    """Django set up in this process on the benchmark's database (its environment already in
    `os.environ`), migrated, static files collected; the server's version, for the results."""
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    print(f"· migrating {database} (PostgreSQL {server_version})", flush=True)
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    return server_version


def metrics_table(rows, *, metric: int = 40, baseline: int = 17) -> str:
    """The printed table of a benchmark: (metric, product, baseline, ratio, target, met) rows;
    `met` None leaves the mark out."""
    heading = f"{'metric':{metric}} {'product':>17} {'baseline':>{baseline}}"
    lines = [f"{heading} {'ratio':>6} {'target':>7}  met"]
    for name, product, bare, rate, target, met in rows:
        mark = "" if met is None else ("✓" if met else "✗")
        lines.append(
            f"{name:{metric}} {product!s:>17} {bare!s:>{baseline}} {rate!s:>6} "
            f"{'' if target is None else target!s:>7}  {mark}"
        )
    return "\n".join(lines)


def bench_env(database_url: str, redis_url: str, **extra: str) -> dict:
    """The environment of a benchmark's Django and its servers: production settings (no
    debug, a fresh secret) on loopback, messages to the console."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        # The page the benchmark's sockets come from (production settings allow no origin
        # but the public one).
        "WS_ALLOWED_ORIGINS": "http://localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "NOTIFY_SMS_BACKEND": "console",
        "PYTHONWARNINGS": "ignore",
        **extra,
    }


def machine(load_at_start, server_version: str, database_url: str) -> dict:
    """What a result was measured on: these machines are shared, so the load is part of it."""
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg_at_start": [round(x, 2) for x in load_at_start],
        "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
        "postgresql": server_version,
        "database": "embedded" if "%2F" in database_url else urlparse(database_url).netloc,
    }


def analyze() -> None:
    """Planner statistics, as a live database has them (autovacuum analyses tables that grow):
    right after a bulk seed there are none, and PostgreSQL would guess every plan blind."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def seed_crew(
    rng: random.Random,
    technicians: int,
    *,
    territories: bool = False,
    slug: str = "bench",
    name: str = "Bench Telecom",
) -> tuple:
    """The bench tenant, its skills, a dispatcher and `technicians` technicians with homes around
    Almaty and 2–4 skills each, in bulk (inside the caller's transaction): (tenant, skills,
    dispatcher, technicians, skills by technician id). Usernames start with the slug, so
    several tenants may be seeded in one database."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import Role, Tenant, User
    from dispatch.management.commands.seed_demo import FIRST, LAST, SKILLS, near
    from technicians.models import Skill, Technician

    tenant = Tenant.objects.create(name=name, slug=slug, time_zone="Asia/Almaty")
    skills = Skill.objects.bulk_create(
        [Skill(tenant=tenant, code=code, name=name) for code, name in SKILLS]
    )
    unusable = make_password(None)
    dispatcher = User.objects.create(
        username=f"{slug}.dispatcher", password=unusable, tenant=tenant, role=Role.DISPATCHER
    )
    users = User.objects.bulk_create(
        [
            User(
                username=f"{slug}.technician{i}",
                password=unusable,
                tenant=tenant,
                role=Role.TECHNICIAN,
                first_name=rng.choice(FIRST),
                last_name=rng.choice(LAST),
            )
            for i in range(1, technicians + 1)
        ]
    )
    crew = []
    for user in users:
        lat, lon = near(rng, 12)
        territory = rng.choice(["North", "South", "East", "West"]) if territories else ""
        crew.append(
            Technician(tenant=tenant, user=user, home_lat=lat, home_lon=lon, territory=territory)
        )
    crew = Technician.objects.bulk_create(crew)
    crew_skills = {t.pk: rng.sample(skills, rng.randint(2, 4)) for t in crew}
    through = Technician.skills.through
    through.objects.bulk_create(
        [
            through(technician_id=pk, skill_id=skill.pk)
            for pk, owned in crew_skills.items()
            for skill in owned
        ]
    )
    return tenant, skills, dispatcher, crew, crew_skills


def seed(*, technicians: int, jobs: int, now: datetime) -> Seeded:
    """Bulk rows, not the per-row services: what matters is the state, not how it was made."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db import transaction
    from django.utils import timezone
    from knox.models import AuthToken

    from dispatch.management.commands.seed_demo import FIRST, LAST, STREETS, near
    from requests_app.models import Customer, ServiceRequest, StatusChange
    from technicians.models import Shift, Visit

    rng = random.Random(SEED)
    with transaction.atomic():
        tenant, skills, dispatcher, crew, crew_skills = seed_crew(
            rng, technicians, territories=True
        )
        zone = tenant.zone
        shift_start, shift_end = now - SHIFT_HALF, now + SHIFT_HALF
        Shift.objects.bulk_create(
            [
                Shift(
                    tenant=tenant,
                    technician=t,
                    date=timezone.localdate(shift_start, zone),
                    start=shift_start,
                    end=shift_end,
                )
                for t in crew
            ]
        )

        scheduled = round(jobs * 0.9)
        plan = _day_plan(rng, crew, scheduled, now)  # (technician, start, minutes) per visit
        customers = []
        for i in range(jobs + EMERGENCY_CUSTOMERS):
            # A scheduled job is near its technician's home: routes are plausible, not city-wide.
            lat, lon = (
                _around(rng, plan[i][0].home_lat, plan[i][0].home_lon, 3)
                if i < scheduled
                else near(rng, 10)
            )
            customers.append(
                Customer(
                    tenant=tenant,
                    name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    phone=f"+7701{rng.randint(1000000, 9999999)}",
                    address=f"{rng.choice(STREETS)} {rng.randint(1, 250)}, Almaty",
                    lat=lat,
                    lon=lon,
                    account_number=f"BN{100000 + i}",
                )
            )
        customers = Customer.objects.bulk_create(customers)

        requests, visits, required = [], [], []
        for i, customer in enumerate(customers[:jobs]):
            if i < scheduled:
                technician, start, minutes = plan[i]
                window_start = _floor_half_hour(start - timedelta(minutes=rng.uniform(0, 60)))
                owned = crew_skills[technician.pk]
            else:
                technician, minutes = None, rng.choice([30, 45, 60])
                window_start = _floor_half_hour(now + timedelta(minutes=rng.uniform(0, 420)))
                owned = skills
            requests.append(
                ServiceRequest(
                    tenant=tenant,
                    customer=customer,
                    kind=ServiceRequest.Kind.PLANNED,
                    category=rng.choice(["installation", "relocation", "repair", "maintenance"]),
                    channel=rng.choice(ServiceRequest.Channel.values),
                    lat=customer.lat,
                    lon=customer.lon,
                    address=customer.address,
                    estimated_minutes=minutes,
                    window_start=window_start,
                    window_end=window_start + timedelta(hours=2),
                    response_due=window_start + timedelta(hours=2),
                    priority=3,
                    status="assigned" if technician else "new",
                )
            )
            required.append(rng.choice(owned) if rng.random() < 0.5 else None)
        requests = ServiceRequest.objects.bulk_create(requests)
        link = ServiceRequest.required_skills.through
        link.objects.bulk_create(
            [
                link(servicerequest_id=r.pk, skill_id=skill.pk)
                for r, skill in zip(requests, required, strict=True)
                if skill
            ]
        )
        changes = [
            StatusChange(tenant=tenant, request=r, from_status="", to_status="new")
            for r in requests
        ]
        for request, (technician, start, minutes) in zip(requests, plan, strict=False):
            visits.append(
                Visit(
                    tenant=tenant,
                    request=request,
                    technician=technician,
                    planned_start=start,
                    planned_end=start + timedelta(minutes=minutes),
                    travel_minutes=10,
                )
            )
            changes.append(
                StatusChange(
                    tenant=tenant, request=request, from_status="new", to_status="assigned"
                )
            )
        Visit.objects.bulk_create(visits)
        StatusChange.objects.bulk_create(changes)

        token = AuthToken.objects.create(dispatcher)[1]
        session = import_module(settings.SESSION_ENGINE).SessionStore()
        session[SESSION_KEY] = str(dispatcher.pk)
        # The backend a password sign-in records (the first, django-axes, only counts failures
        # and cannot load a user: a session naming it is refused by the socket's auth).
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = dispatcher.get_session_auth_hash()
        session.create()
    return Seeded(
        tenant_id=tenant.pk,
        token=token,
        session_key=session.session_key,
        customer_ids=[c.pk for c in customers[jobs:]],
        skill_codes=[s.code for s in skills],
        counts={
            "technicians": len(crew),
            "open_jobs": len(requests),
            "scheduled_visits": len(visits),
            "unassigned_jobs": len(requests) - len(visits),
            "emergency_customers": len(customers) - jobs,
        },
    )


def _day_plan(rng, crew, total: int, now: datetime) -> list[tuple]:
    """`total` visits dealt round-robin; each technician's day is cut into equal slots and each
    visit sits inside its own slot, so no two overlap (the exclusion constraint would refuse)."""
    per = [total // len(crew) + (i < total % len(crew)) for i in range(len(crew))]
    day_start, length = now - DAY_BEHIND, DAY_BEHIND + DAY_AHEAD
    by_technician = []
    for technician, count in zip(crew, per, strict=True):
        slot = length / max(count, 1)
        visits = []
        for k in range(count):
            minutes = min(rng.choice([30, 30, 45]), int(slot.total_seconds() // 60) - 10)
            spare = slot.total_seconds() / 60 - minutes - 5
            start = day_start + slot * k + timedelta(minutes=rng.uniform(0, max(spare, 0)))
            visits.append((technician, start.replace(microsecond=0), minutes))
        by_technician.append(visits)
    return [visit for visits in by_technician for visit in visits]


def _around(rng, lat: float, lon: float, km: float) -> tuple[float, float]:
    return (
        round(lat + rng.uniform(-1, 1) * km / 111.0, 6),
        round(lon + rng.uniform(-1, 1) * km / 81.0, 6),
    )


def _floor_half_hour(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute // 30 * 30, second=0, microsecond=0)


# ── the processes ────────────────────────────────────────────────────────────────────────────


try:
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl  # resolved now, not in a forked child
except (OSError, AttributeError):
    _PRCTL = None


def _die_with_parent() -> None:
    """If this script is killed outright, its servers get SIGTERM instead of living on."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Stack:
    """gunicorn (HTTP), uvicorn (/ws/) and a Celery worker, like production, on loopback."""

    def __init__(self, env: dict, logs: Path, concurrency: int = 2):
        self.env, self.logs, self.concurrency = env, logs, concurrency
        self.http_port, self.ws_port = free_port(), free_port()
        self.children: dict[str, subprocess.Popen] = {}

    @property
    def worker_log(self) -> Path:
        return self.logs / "worker.log"

    @property
    def access_log(self) -> Path:
        return self.logs / "access.log"

    def commands(self) -> dict[str, list[str]]:
        return {
            "web": [
                str(BIN / "gunicorn"),
                "config.wsgi:application",
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{self.http_port}",
                "--log-level",
                "warning",
                "--access-logfile",
                str(self.access_log),
                "--access-logformat",
                '%(t)s "%(r)s" %(s)s %(D)s',
            ],
            "ws": [
                str(BIN / "uvicorn"),
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.ws_port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            "worker": [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "-Q",
                ",".join(QUEUES),
                "-c",
                str(self.concurrency),
                "-l",
                "INFO",
                "-n",
                "bench@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--logfile",
                str(self.worker_log),
            ],
        }

    def start(self) -> None:
        for name, command in self.commands().items():
            self._spawn(name, command)
        wait_for_port(self.http_port, process=self.children["web"], timeout=40)
        wait_for_port(self.ws_port, process=self.children["ws"], timeout=40)

    def _spawn(self, name: str, command: list[str]) -> None:
        with open(self.logs / f"{name}.out", "ab") as output:
            self.children[name] = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )

    def restart_worker(self, redis_url: str, timeout: float = 40) -> None:
        """A fresh worker and empty queues, so no run inherits the last one's backlog or the
        re-plan it triggered (a day re-plan at this size outlasts the pause between runs)."""
        ready = self._worker_ready_lines()
        self._stop("worker", self.children["worker"], signal.SIGQUIT, 5)  # cold: drop the task
        queue_purge(redis_url)
        self._spawn("worker", self.commands()["worker"])
        deadline = time.monotonic() + timeout
        while self._worker_ready_lines() <= ready:
            self.check()
            if time.monotonic() > deadline:
                raise TimeoutError(f"the Celery worker did not start; see {self.logs}")
            time.sleep(0.2)

    def _worker_ready_lines(self) -> int:
        log = self.worker_log
        return log.read_text(errors="replace").count(" ready.") if log.exists() else 0

    def check(self) -> None:
        for name, child in self.children.items():
            if child.poll() is not None:
                raise RuntimeError(f"{name} exited with {child.returncode}; see {self.logs}")

    def trees(self) -> dict[str, list[int]]:
        parents = _parents()
        return {name: _descendants(child.pid, parents) for name, child in self.children.items()}

    def stop(self) -> None:
        for name, child in self.children.items():
            self._stop(name, child, signal.SIGQUIT if name == "worker" else signal.SIGTERM, 8)

    @staticmethod
    def _stop(name: str, child: subprocess.Popen, how: signal.Signals, timeout: float) -> None:
        """Ask, wait, then kill what is left of the process and of its own children."""
        tree = _descendants(child.pid, _parents())
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(how)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=timeout)
        parents = _parents()
        for pid in tree:
            if pid in parents:  # still alive (pool children, gunicorn workers)
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=2)


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
    return parents


def _descendants(root: int, parents: dict[int, int]) -> list[int]:
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def _cpu_seconds(pids) -> dict[int, float]:
    ticks, used = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return used


def _postgres_backends() -> list[int]:
    """Server processes of the bench database (their title names the database)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                title = (entry / "cmdline").read_bytes()
                if title.startswith(b"postgres:") and f" {DB_NAME} ".encode() in title:
                    pids.append(int(entry.name))
    return pids


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine: other people's work shows up here."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuMeter:
    def __init__(self, stack: Stack):
        self.stack = stack

    def snapshot(self) -> dict:
        trees = self.stack.trees()
        shot = {name: _cpu_seconds(pids) for name, pids in trees.items()}
        shot["postgres"] = _cpu_seconds(_postgres_backends())
        shot["bench_client"] = _cpu_seconds([os.getpid()])
        shot["_machine"] = _machine_busy()
        shot["_wall"] = time.time()
        return shot

    @staticmethod
    def cores(before: dict, after: dict) -> dict:
        """Per process, what it used since the first snapshot (or since it started); a process
        that ended in between is missed, e.g. a database backend whose connection closed."""
        wall = after["_wall"] - before["_wall"]
        used = {
            name: round(
                sum(seconds - before[name].get(pid, 0) for pid, seconds in after[name].items())
                / wall,
                2,
            )
            for name in after
            if not name.startswith("_")
        }
        busy = after["_machine"][0] - before["_machine"][0]
        total = after["_machine"][1] - before["_machine"][1]
        used["machine_busy_cores"] = round(busy / total * (os.cpu_count() or 1), 2)
        return used


class LockSampler(threading.Thread):
    """Samples pg_stat_activity of the bench database: who is active, who waits for a lock."""

    def __init__(self, database_url: str, every: float = 0.1):
        super().__init__(daemon=True)
        self.connection = pg_connect(database_url, DB_NAME)
        self.connection.autocommit = True
        self.every, self.samples, self.stopping = every, [], threading.Event()

    def run(self) -> None:
        with self.connection.cursor() as cursor:
            while not self.stopping.wait(self.every):
                cursor.execute(
                    "SELECT count(*) FILTER (WHERE state = 'active'), "
                    "coalesce(array_agg(wait_event || ' ← ' || left(regexp_replace(query, "
                    "'\\s+', ' ', 'g'), 70)) FILTER (WHERE wait_event_type = 'Lock'), '{}') "
                    "FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
                active, waiting = cursor.fetchone()
                self.samples.append((time.time(), active, waiting))

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=2)
        self.connection.close()

    def summary(self, start: float, end: float) -> dict:
        window = [s for s in self.samples if start <= s[0] <= end]
        if not window:
            return {}
        waiting = Counter(query for _, _, queries in window for query in queries)
        return {
            "samples": len(window),
            "mean_active_backends": round(sum(s[1] for s in window) / len(window), 2),
            "share_with_lock_waiter": round(sum(1 for s in window if s[2]) / len(window), 3),
            "mean_lock_waiters": round(sum(len(s[2]) for s in window) / len(window), 2),
            "top_waiting": [f"{n}× {query}" for query, n in waiting.most_common(4)],
        }


# ── load and the socket ──────────────────────────────────────────────────────────────────────


@dataclass
class Shot:
    key: str  # bare: the marker; product: the request id once answered
    scheduled: float
    sent: float = 0.0
    answered: float = 0.0
    status: int = 0
    error: str = ""


@dataclass
class Listener:
    """Reads the dispatcher socket; keeps the first arrival of every event it is asked about."""

    bare: dict = field(default_factory=dict)  # marker → (received, event at)
    created: dict = field(default_factory=dict)  # request id → (received, event at)
    final: dict = field(default_factory=dict)  # request id → (received, event at, status)
    seqs: set = field(default_factory=set)
    messages: int = 0

    async def run(self, connection) -> None:
        async for raw in connection:
            received = time.time()
            message = json.loads(raw)
            if message.get("type") != "event":
                continue
            self.messages += 1
            self.seqs.add(message["seq"])
            at = datetime.fromisoformat(message["at"]).timestamp() if message.get("at") else None
            data = message.get("data") or {}
            if message["kind"] == BARE_KIND:
                self.bare.setdefault(data.get("marker"), (received, at))
            elif data.get("kind") == "emergency":
                if message["kind"] == "request.created":
                    self.created.setdefault(str(data["id"]), (received, at))
                elif data.get("status") in FINAL:
                    self.final.setdefault(str(data["id"]), (received, at, data["status"]))

    def lost_seqs(self) -> list[int]:
        """Numbers never pushed to this socket: the board would catch up from the feed."""
        return (
            sorted(set(range(min(self.seqs), max(self.seqs) + 1)) - self.seqs) if self.seqs else []
        )


def post_json(url: str, body: dict, token: str) -> tuple[int, dict, str]:
    request = urllib.request.Request(  # noqa: S310 — loopback http only
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Token {token}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 — loopback
            return response.status, json.loads(response.read()), ""
    except urllib.error.HTTPError as error:
        return error.code, {}, error.read()[:200].decode(errors="replace")
    except OSError as error:
        return 0, {}, str(error)


class Loop:
    """Fires bare or product POSTs and matches them with their events on the socket."""

    def __init__(self, stack: Stack, seeded: Seeded, listener: Listener):
        self.base = f"http://127.0.0.1:{stack.http_port}"
        self.seeded, self.listener = seeded, listener
        self.rng = random.Random(SEED + 1)
        # Enough threads that a backed-up server does not hold up the schedule (lag is reported).
        self.pool = ThreadPoolExecutor(max_workers=256, thread_name_prefix="post")
        self.count = 0

    def body(self, path: str) -> tuple[str, dict]:
        self.count += 1
        if path == "bare":
            marker = f"bare-{self.count}-{secrets.token_hex(4)}"
            return marker, {"marker": marker}
        skills = [self.rng.choice(self.seeded.skill_codes)] if self.rng.random() < 0.5 else []
        return "", {
            "kind": "emergency",
            "category": "outage",
            "channel": "api",
            "customer": self.rng.choice(self.seeded.customer_ids),
            "description": "No service (benchmark)",
            "estimated_minutes": 45,
            "required_skills": skills,
        }

    def fire(self, path: str, shot: Shot, body: dict) -> Shot:
        url = f"{self.base}/bench/bare/" if path == "bare" else f"{self.base}/api/v1/requests/"
        shot.sent = time.time()
        shot.status, answer, shot.error = post_json(url, body, self.seeded.token)
        shot.answered = time.time()
        if path == "product" and "id" in answer:
            shot.key = str(answer["id"])
        return shot

    def arrivals(self, path: str) -> dict:
        return self.listener.bare if path == "bare" else self.listener.final

    async def run(self, path: str, rate: float, seconds: float, grace: float) -> list[Shot]:
        loop = asyncio.get_running_loop()
        start = time.time() + 0.2
        pending = []
        for i in range(round(rate * seconds)):
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.time()))
            key, body = self.body(path)
            shot = Shot(key=key, scheduled=scheduled)
            pending.append(loop.run_in_executor(self.pool, self.fire, path, shot, body))
        shots = await asyncio.gather(*pending)
        arrivals, deadline = self.arrivals(path), time.time() + grace
        while time.time() < deadline and any(s.key not in arrivals for s in shots if s.key):
            await asyncio.sleep(0.05)
        return shots


# ── numbers ──────────────────────────────────────────────────────────────────────────────────


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else math.inf


def ms(value: float) -> float | None:
    return None if math.isinf(value) else round(value * 1000, 1)


def spread(values: list[float]) -> dict:
    return {
        "p50_ms": ms(percentile(values, 0.5)),
        "p95_ms": ms(percentile(values, 0.95)),
        "p99_ms": ms(percentile(values, 0.99)),
        "n": len(values),
    }


def latency(shots: list[Shot], arrivals: dict) -> dict:
    """Percentiles over everything sent: a missing event counts as infinitely late."""
    values = [arrivals[s.key][0] - s.sent if s.key in arrivals else math.inf for s in shots]
    received = [v for v in values if not math.isinf(v)]
    lag = [s.sent - s.scheduled for s in shots]
    arrived = [arrivals[s.key][0] for s in shots if s.key in arrivals]
    span = max(arrived) - shots[0].sent if arrived else 0
    return {
        "p50_ms": ms(percentile(values, 0.5)),
        "p95_ms": ms(percentile(values, 0.95)),
        "p99_ms": ms(percentile(values, 0.99)),
        "mean_ms": ms(sum(received) / len(received)) if received else None,
        "max_ms": ms(max(received)) if received else None,
        "received": len(received),
        "sent": len(shots),
        "completed_per_s": round(len(arrived) / span, 2) if span else None,
        "http_errors": dict(
            Counter(f"{s.status} {s.error[:60]}".strip() for s in shots if s.status != 201)
        ),
        "http_response": spread([s.answered - s.sent for s in shots if s.status == 201]),
        "schedule_lag_max_ms": ms(max(lag)) if lag else None,
    }


def phases(shots: list[Shot], listener: Listener) -> dict:
    """Where a product request spends its time, from client clocks and the events' own
    timestamps (same machine, same clock): each `at` is the event row's created_at."""
    parts = defaultdict(list)
    for shot in shots:
        created, final = listener.created.get(shot.key), listener.final.get(shot.key)
        if not created or not final:
            continue
        parts["post_to_created_row"].append(created[1] - shot.sent)
        parts["created_row_to_pushed"].append(created[0] - created[1])
        parts["created_pushed_to_assigned_row"].append(final[1] - created[0])
        parts["assigned_row_to_pushed"].append(final[0] - final[1])
    return {name: spread(values) for name, values in parts.items()}


WORKER_LINE = re.compile(
    r"^\[(?P<at>[\d-]+ [\d:]+),(?P<ms>\d+): \w+/[^\]]+\] Task (?P<task>[\w.]+)\[[^\]]+\] "
    r"(?P<what>succeeded in (?P<seconds>[\d.e-]+)s|received|retry|raised)"
)
ACCESS_LINE = re.compile(
    r'^\[(?P<at>[^\]]+)\] "POST (?P<path>\S+) [^"]*" (?P<status>\d+) (?P<us>\d+)'
)


def worker_tasks(log: Path, start: float, end: float) -> dict:
    """Run times of the tasks that finished in the window; how many were received, retried or
    failed (a `plan_tenant_day` received is a day re-plan the emergencies asked for)."""
    runs, counts = defaultdict(list), Counter()
    if not log.exists():
        return {}
    for line in log.read_text(errors="replace").splitlines():
        match = WORKER_LINE.match(line)
        if not match:
            continue
        at = (
            datetime.strptime(match["at"], "%Y-%m-%d %H:%M:%S").timestamp()
            + int(match["ms"]) / 1000
        )
        if not start <= at <= end:
            continue
        task = match["task"].rsplit(".", 1)[-1]
        if match["seconds"]:
            runs[task].append(float(match["seconds"]))
        else:
            counts[(task, match["what"])] += 1
    out = {
        task: {**spread(values), "busy_s": round(sum(values), 2)} for task, values in runs.items()
    }
    for (task, what), n in counts.items():
        out.setdefault(task, {})[what] = n
    return out


def http_times(log: Path, path: str, start: float, end: float) -> dict:
    values = []
    if log.exists():
        for line in log.read_text(errors="replace").splitlines():
            match = ACCESS_LINE.match(line)
            if match and match["path"] == path:
                at = datetime.strptime(match["at"], "%d/%b/%Y:%H:%M:%S %z").timestamp()
                if start - 1 <= at <= end + 1:
                    values.append(int(match["us"]) / 1e6)
    return spread(values)


def outcomes(request_ids: list[int], start: float, end: float) -> dict:
    """How the run's emergencies ended, and how much each assignment moved, from the rows."""
    from django.db.models import Count, Sum

    from core.models import Event
    from dispatch.models import Decision
    from notifications.models import Notification
    from requests_app.models import ServiceRequest

    rows = ServiceRequest.objects.filter(pk__in=request_ids)
    statuses = dict(rows.values_list("status").annotate(n=Count("pk")))
    attempts = rows.aggregate(total=Sum("assignment_attempts"))["total"] or 0
    pushed, broken, decisions = [], [], 0
    for candidates in Decision.objects.filter(request_id__in=request_ids).values_list(
        "candidates", flat=True
    ):
        decisions += 1
        if candidates:
            pushed.append(candidates[0]["visits_pushed"])
            broken.append(candidates[0]["windows_broken"])
    since, until = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
    events = Event.objects.filter(created_at__range=(since, until)).count()
    return {
        "final_status": statuses,
        "assigned": statuses.get("assigned", 0),
        "escalated": statuses.get("escalated", 0),
        "decisions": decisions,
        "assignment_attempts": attempts,
        "visits_pushed_mean": round(sum(pushed) / len(pushed), 2) if pushed else None,
        "windows_broken_mean": round(sum(broken) / len(broken), 2) if broken else None,
        "events_per_emergency": round(events / len(request_ids), 1) if request_ids else None,
        "notifications": Notification.objects.filter(created_at__range=(since, until)).count(),
    }


def lost_pushes(seqs: list[int], tenant_id: int, windows: list[tuple]) -> dict:
    """Gaps in seq, split by when the event was written: during a run, or outside the runs (the
    warm-up, or a worker being stopped: a task killed between its commit and its push)."""
    from core.models import Event

    during, after, kinds = [], [], Counter()
    for seq, kind, at in Event.objects.filter(tenant_id=tenant_id, seq__in=seqs).values_list(
        "seq", "kind", "created_at"
    ):
        moment = at.timestamp()
        (during if any(a <= moment <= b for a, b in windows) else after).append(seq)
        kinds[kind] += 1
    return {
        "during_runs": len(during),
        "outside_runs": len(after),
        "seqs": sorted(during)[:20],
        "kinds": dict(kinds),
    }


# ── the run ──────────────────────────────────────────────────────────────────────────────────


async def measure(args, stack: Stack, seeded: Seeded, env: dict, redis_url: str) -> dict:
    import websockets

    listener = Listener()
    cpu, sampler = CpuMeter(stack), LockSampler(env["DATABASE_URL"])
    sampler.start()
    async with websockets.connect(
        f"ws://127.0.0.1:{stack.ws_port}/ws/dispatch/",
        max_queue=None,
        open_timeout=20,
        additional_headers={
            "Cookie": f"sessionid={seeded.session_key}",
            "Origin": "http://localhost",
        },
    ) as connection:
        reading = asyncio.create_task(listener.run(connection))
        loop = Loop(stack, seeded, listener)
        try:
            print("· warming up (the first emergency waits for the Celery worker to boot)")
            for path, wait in (("bare", 30), ("product", 90)):
                shots = await loop.run(path, 1, 1, wait)
                if not all(s.key in loop.arrivals(path) for s in shots):
                    raise RuntimeError(f"warm-up {path}: no event within {wait}s: {shots}")
            for path in ("bare", "product"):
                await loop.run(path, 5, 1, 10)
            runs = {"bare": {}, "product": {}}
            for rate in args.rates:
                for path in ("bare", "product"):
                    if path == "bare":
                        await asyncio.to_thread(stack.restart_worker, redis_url)
                    await asyncio.sleep(1.0)
                    key = f"{rate:g}"
                    print(f"· {path} at {key}/s for {args.seconds:g} s")
                    before, started = cpu.snapshot(), time.time()
                    shots = await loop.run(path, rate, args.seconds, args.grace)
                    ended, after = time.time(), cpu.snapshot()
                    if reading.done():
                        raise RuntimeError(f"the dispatcher socket closed: {reading.exception()}")
                    stack.check()
                    runs[path][key] = summarize(
                        path,
                        shots,
                        listener,
                        stack,
                        sampler,
                        cpu.cores(before, after),
                        started,
                        ended,
                    )
            runs["lost_seqs"] = listener.lost_seqs()
            runs["socket_messages"] = listener.messages
            return runs
        finally:
            reading.cancel()
            loop.pool.shutdown(wait=False, cancel_futures=True)
            sampler.stop()


def summarize(path, shots, listener, stack, sampler, cores, started, ended) -> dict:
    arrivals = listener.bare if path == "bare" else listener.final
    result = latency(shots, arrivals)
    result["http_server"] = http_times(
        stack.access_log,
        "/bench/bare/" if path == "bare" else "/api/v1/requests/",
        started,
        ended,
    )
    result["cpu_cores"] = cores
    result["locks"] = sampler.summary(started, ended)
    result["duration_s"] = round(ended - started, 1)
    result["_window"] = (started, ended)
    if path == "product":
        result["phases"] = phases(shots, listener)
        result["worker"] = worker_tasks(stack.worker_log, started, ended)
        # Read from the database once the stack is stopped (no ORM inside the event loop).
        result["_outcomes_of"] = [int(s.key) for s in shots if s.key]
        result["escalated_events"] = sum(
            1 for s in shots if s.key in listener.final and listener.final[s.key][2] == "escalated"
        )
    return result


def table(runs: dict) -> str:
    lines = [
        f"{'rate':>6} {'path':<8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'received/sent':>14}  p99 product/bare"
    ]
    for key in runs["product"]:
        for path in ("bare", "product"):
            row = runs[path][key]
            cells = [
                f"{row[q]:>8.1f}" if row[q] is not None else f"{'—':>8}"
                for q in ("p50_ms", "p95_ms", "p99_ms")
            ]
            ratio = runs["ratio_p99"].get(key) if path == "product" else None
            lines.append(
                f"{key + '/s':>6} {path:<8} {' '.join(cells)} "
                f"{row['received']:>6}/{row['sent']:<7}  "
                + (f"×{ratio:.1f}" if ratio else ("—" if path == "product" else ""))
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="bench.emergency_loop", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--rates", default="5,20", type=lambda v: [float(x) for x in v.split(",") if x]
    )
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--technicians", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument(
        "--grace", type=float, default=30, help="seconds after the last POST to wait for events"
    )
    parser.add_argument(
        "--replan",
        action="store_true",
        help="keep the debounced day re-plan each assignment schedules (at 300 "
        "technicians it needs tens of GB: see REPLAN_OFF)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=2, help="Celery worker processes (-c); one per core"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    began, load_at_start = time.time(), os.getloadavg()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    database_url, redis_url = bench_urls(
        os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/dispatch",
        os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
    )
    server_version = database_recreate(database_url)
    queue_purge(redis_url, channels=True)
    env = bench_env(database_url, redis_url, **({} if args.replan else REPLAN_OFF))
    os.environ.update(env)
    import django
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    django.setup()
    print(f"· migrating {DB_NAME} (PostgreSQL {server_version})")
    call_command("migrate", verbosity=0)
    migrated = time.time()
    seeded = seed(technicians=args.technicians, jobs=args.jobs, now=timezone.now())
    analyze()
    connection.close()
    seeded_at = time.time()
    print(f"· seeded in {seeded_at - migrated:.1f} s: {seeded.counts}")

    logs = Path(tempfile.mkdtemp(prefix="emergency_loop-"))
    stack = Stack(env, logs, args.concurrency)
    try:
        stack.start()
        print(
            f"· gunicorn :{stack.http_port}, uvicorn :{stack.ws_port}, celery worker; "
            f"logs in {logs}"
        )
        runs = asyncio.run(measure(args, stack, seeded, env, redis_url))
    finally:
        stack.stop()
        queue_purge(redis_url)
    windows = []  # each run's, grace period included: its assignments end inside it
    for path in ("bare", "product"):
        for row in runs[path].values():
            windows.append(row.pop("_window"))
            if path == "product":
                row["outcomes"] = outcomes(row.pop("_outcomes_of"), *windows[-1])
    lost = lost_pushes(runs.pop("lost_seqs"), seeded.tenant_id, windows)
    connection.close()

    runs["ratio_p99"] = {
        key: round(row["p99_ms"] / runs["bare"][key]["p99_ms"], 2)
        if row["p99_ms"] and runs["bare"][key]["p99_ms"]
        else None
        for key, row in runs["product"].items()
    }
    top = runs["product"].get(f"{max(args.rates):g}", {})
    result = {
        "benchmark": "emergency_loop",
        "description": "POST an emergency → assignment committed → event on a dispatcher "
        "WebSocket (product), vs POST → one event row → event (bare)",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(load_at_start, server_version, database_url),
        "config": {
            "rates_per_s": args.rates,
            "seconds": args.seconds,
            "grace_s": args.grace,
            **seeded.counts,
            "order": [f"{p} {r:g}/s" for r in args.rates for p in ("bare", "product")],
            "processes": "gunicorn -w 2 (sync), uvicorn, "
            f"celery worker -c {args.concurrency} (prefork), "
            "no beat; worker restarted with empty queues before each rate",
            "day_replan": "on" if args.replan else "off (PLAN_DEBOUNCE_SECONDS=86400)",
            "django_debug": False,
        },
        "target": {
            "p99_ms_at_top_rate": TARGET_P99_MS,
            "stretch_ms": STRETCH_P99_MS,
            "met": bool(top.get("p99_ms") and top["p99_ms"] <= TARGET_P99_MS),
            "stretch_met": bool(top.get("p99_ms") and top["p99_ms"] <= STRETCH_P99_MS),
        },
        "rates": runs["product"],
        "bare": runs["bare"],
        "ratio_p99": runs["ratio_p99"],
        "lost_pushes": lost,
        "socket_messages": runs["socket_messages"],
        "durations_s": {
            "migrate": round(migrated - began, 1),
            "seed": round(seeded_at - migrated, 1),
            "total": round(time.time() - began, 1),
        },
        "logs": str(logs),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(table(runs))
    print(
        f"\npushes lost (gaps in seq) during runs: {lost['during_runs']}, outside them "
        f"(warm-up, stopping workers): {lost['outside_runs']}; wrote {args.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
