"""The manager's KPIs at a year of data (issue #15): dashboard, drill-down, export, roll-up.

    python -m bench.kpis [--requests 1000000] [--rounds 10] [--export-rows 100000]
    make bench-kpis   # = python -m devtools.devstack run --profile bench -- <the above>

It drops and re-creates the database `dispatch_bench_kpis`, migrates it and seeds, with
PostgreSQL itself (`INSERT … SELECT generate_series`, `setseed` for repeatable draws), two
tenants of 500 technicians each and, over the last 12 months, `--requests` requests (planned
with 2-hour windows, one in seven an emergency; completed, cancelled, not completed or still to
come), about 1.2 visits each (a third of the completed ones after a failed first visit), the
status changes the KPIs read (to assigned, completed, cancelled; a few reopenings) and a shift
per technician-day. Visits sit on an hourly grid, the n-th visit of a tenant's hour going to its
n-th technician, so no technician's visits overlap (asserted). Rows are inserted by the owner
connection in `every_tenant()` scope, so row-level security checks them as it would any write.
Surveys, complaints, absences and promise risks are left empty.

Then, against a bare authenticated DRF read (`GET /bench/bare/list/`) in the same rounds, over
HTTP against gunicorn (2 sync workers) as a signed-in manager:

1. **month, live only**: `/api/v1/kpis/summary/` + `/trend/` for the last 30 days before any
   roll-up (`--live-rounds`, no target); then the roll-up over the year
   (`services.daily_kpis_refresh_days` over each tenant's last 365 days, the service the beat
   task runs each night over its last days), timed: `rollup_s`;
2. **month and year with the roll-up**: the same for 30 and 365 days (`dashboard_*_ms`);
3. **drill-down**: the first page of `/api/v1/kpis/requests/?kpi=windows_kept&part=misses`
   over the year (`drilldown_ms`);
4. **export**: `--export-rows` rows of the requests behind a figure through
   `reports.services.export_file_write` (XLSX) in a subprocess that reports its own peak RSS
   (VmHWM), beside raw XlsxWriter writing the same number of fixed rows.

The slowest statements of each dashboard call are kept with their EXPLAIN (ANALYZE). Prints a
table and writes `bench/results/kpis.json` (`--output`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.board import http_get, spread
from bench.emergency_loop import (
    analyze,
    bench_django,
    bench_env,
    bench_stores,
    machine,
    metrics_table,
    queue_purge,
    seed_crew,
)
from bench.intake import Server

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results" / "kpis.json"
DB_NAME = "dispatch_bench_kpis"
BENCH_REDIS_DB = 13
SEED = 15
TENANTS = ("north", "south")
TECHNICIANS = 500  # per tenant
BARE_PATH = "/bench/bare/list/"
TARGETS = {
    "dashboard_month_ms_p99": 1000,
    "dashboard_year_ms_p99": 2000,
    "drilldown_ms_p99": 500,
    "export_peak_rss_mb": 300,
}
CATEGORIES = ["installation", "relocation", "repair", "maintenance"]


# ── seeding, in SQL ──────────────────────────────────────────────────────────────────────────

SEED_SQL = """
SELECT setseed(%(seed)s);

INSERT INTO requests_app_customer
    (tenant_id, name, phone, email, address, lat, lon, account_number, created_at, language)
SELECT %(tenant)s, 'Customer ' || n, '+7701' || lpad(n::text, 7, '0'), '', 'Abay ' || n,
       43.2 + random() * 0.1, 76.85 + random() * 0.1, %(slug)s || n, %(since)s, ''
FROM generate_series(1, %(customers)s) AS n;

-- The customers numbered from 0, joined by number (an array looked up per row would be copied
-- for every row: quadratic at a million requests).
CREATE TEMP TABLE bench_customers AS
SELECT (row_number() OVER (ORDER BY id) - 1)::int AS k, id
FROM requests_app_customer WHERE tenant_id = %(tenant)s;

CREATE UNIQUE INDEX ON bench_customers (k);

ANALYZE bench_customers;

-- One draw per request: created, kind, and how it ended (r_end).
CREATE TEMP TABLE bench_draws AS
SELECT n, %(since)s + random() * (%(now)s - %(since)s) AS created,
       random() < 1.0 / 7 AS emergency, random() AS r_end, random() AS r_late,
       random() AS r_two, (%(categories)s::text[])[1 + floor(random() * 4)::int] AS category,
       (%(channels)s::text[])[1 + floor(random() * %(n_channels)s)::int] AS channel
FROM generate_series(1, %(requests)s) AS n;

ANALYZE bench_draws;

INSERT INTO requests_app_servicerequest
    (tenant_id, kind, priority, category, channel, description, address, lat, lon,
     estimated_minutes, window_start, window_end, response_due, status, window_at_risk,
     plan_note, assignment_attempts, created_at, updated_at, customer_id, number_in_tenant,
     tracking_key, held, reports, version)
SELECT %(tenant)s, CASE WHEN emergency THEN 'emergency' ELSE 'planned' END,
       CASE WHEN emergency THEN 1 ELSE 3 END, category, channel, '', 'Abay ' || n,
       43.2 + (n %% 1000) / 10000.0, 76.85 + (n %% 997) / 10000.0, 45,
       w.start, w.start + interval '2 hours',
       CASE WHEN emergency THEN created + interval '60 minutes' END,
       CASE
         WHEN coalesce(w.start + interval '2 hours', created + interval '2 hours') > %(now)s
           THEN CASE WHEN r_end < 0.5 THEN 'new' ELSE 'assigned' END
         WHEN r_end < 0.88 THEN 'completed'
         WHEN r_end < 0.94 THEN 'cancelled'
         WHEN r_end < 0.98 THEN 'not_completed'
         ELSE 'escalated'
       END,
       false, '', 0, created, created,
       c.id, n,
       'bk' || %(tenant)s || '-' || n, false, 1, 1
FROM bench_draws JOIN bench_customers c ON c.k = (n::bigint * 7919) %% %(customers)s,
     LATERAL (SELECT CASE WHEN emergency THEN NULL::timestamptz
              ELSE date_trunc('hour', created) + (1 + (n %% 5)) * interval '1 day'
                   - (n %% 3) * interval '2 hours' END AS start) AS w;

-- The visits: for every request that got one, when the technician arrived (anchor); a third of
-- the completed ones had a failed visit the day before.
CREATE TEMP TABLE bench_visits AS
WITH r AS (
    SELECT s.id, s.status, s.kind, s.created_at, s.window_start, s.window_end, d.r_late, d.r_two
    FROM requests_app_servicerequest s JOIN bench_draws d ON d.n = s.number_in_tenant
    WHERE s.tenant_id = %(tenant)s AND s.status IN ('completed', 'not_completed', 'assigned')
), v AS (
    SELECT id AS request_id,
           CASE WHEN status = 'assigned' THEN 'scheduled'
                WHEN status = 'completed' THEN 'completed' ELSE 'not_completed' END AS status,
           CASE WHEN kind = 'emergency'
                  THEN created_at + (20 + r_late * 60) * interval '1 minute'
                WHEN r_late < 0.08
                  THEN window_end + r_late * 500 * interval '1 minute'
                ELSE window_start + r_late * 110 * interval '1 minute' END AS anchor
    FROM r
    UNION ALL
    SELECT id, 'not_completed',
           coalesce(window_start, created_at) - interval '1 day' + r_late * interval '1 hour'
    FROM r WHERE status = 'completed' AND r_two < 0.32
)
SELECT v.*, date_trunc('hour', anchor) AS hour,
       row_number() OVER (PARTITION BY date_trunc('hour', anchor) ORDER BY request_id, anchor)
           AS slot
FROM v;

INSERT INTO technicians_visit
    (tenant_id, request_id, technician_id, planned_start, planned_end, sequence, travel_minutes,
     status, pinned, reason, note, accepted_at, en_route_at, arrived_at, finished_at, created_at,
     updated_at)
SELECT %(tenant)s, request_id, (%(technicians)s::bigint[])[slot], hour,
       hour + interval '55 minutes', 0, 15, v.status, false,
       CASE WHEN v.status = 'not_completed' THEN 'customer_absent' ELSE '' END, '',
       CASE WHEN v.status <> 'scheduled' THEN anchor - interval '40 minutes' END,
       CASE WHEN v.status <> 'scheduled' THEN anchor - interval '15 minutes' END,
       CASE WHEN v.status <> 'scheduled' THEN anchor END,
       CASE WHEN v.status <> 'scheduled' THEN anchor + interval '40 minutes' END,
       hour - interval '1 day', hour - interval '1 day'
FROM bench_visits v;

-- The status changes the KPIs read: to assigned (emergencies in SLA), to completed (first-time
-- fix, time to restore), to cancelled (windows cancelled before they ended), and a few
-- reopenings (from completed).
INSERT INTO requests_app_statuschange
    (tenant_id, request_id, from_status, to_status, reason, created_at)
SELECT %(tenant)s, s.id, 'new', 'assigned', '',
       s.created_at + (5 + d.r_late * 50) * interval '1 minute'
FROM requests_app_servicerequest s JOIN bench_draws d ON d.n = s.number_in_tenant
WHERE s.tenant_id = %(tenant)s AND s.status IN ('completed', 'not_completed', 'assigned')
UNION ALL
SELECT %(tenant)s, v.request_id, 'on_site', 'completed', '', v.anchor + interval '40 minutes'
FROM bench_visits v WHERE v.status = 'completed'
UNION ALL
SELECT %(tenant)s, v.request_id, 'completed', 'assigned', '', v.anchor + interval '20 minutes'
FROM bench_visits v WHERE v.status = 'completed' AND v.request_id %% 50 = 0
UNION ALL
SELECT %(tenant)s, s.id, 'new', 'cancelled', '',
       s.created_at + (1 + d.r_late * 20) * interval '1 hour'
FROM requests_app_servicerequest s JOIN bench_draws d ON d.n = s.number_in_tenant
WHERE s.tenant_id = %(tenant)s AND s.status = 'cancelled';

INSERT INTO technicians_shift (tenant_id, technician_id, date, start, "end", lunch_minutes)
SELECT %(tenant)s, t, day::date, day + interval '8 hours', day + interval '20 hours', 60
FROM unnest(%(technicians)s::bigint[]) AS t,
     generate_series(date_trunc('day', %(since)s), date_trunc('day', %(now)s),
                     interval '1 day') AS day;

DROP TABLE bench_customers, bench_draws, bench_visits;
"""


def seed(*, requests: int, now: datetime) -> dict:
    """Both tenants, each with a manager signed in: {tenant slug: (tenant id, session)}."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from accounts.models import Role, User
    from requests_app.models import ServiceRequest

    rng = random.Random(SEED)
    out, counts = {}, {}
    since = now - timedelta(days=365)
    for index, slug in enumerate(TENANTS):
        with transaction.atomic():
            tenant, _skills, _dispatcher, crew, _crew_skills = seed_crew(
                rng, TECHNICIANS, territories=True, slug=slug, name=f"Bench {slug}"
            )
            manager = User.objects.create(
                username=f"{slug}.manager",
                password=make_password(None),
                tenant=tenant,
                role=Role.MANAGER,
            )
            n = requests // len(TENANTS) + (requests % len(TENANTS) if index == 0 else 0)
            params = {
                "seed": 0.1 * (index + 1),
                "tenant": tenant.pk,
                "slug": slug.upper(),
                "customers": max(1, n // 4),
                "requests": n,
                "since": since,
                "now": now,
                "categories": CATEGORIES,
                "channels": list(ServiceRequest.Channel.values),
                "n_channels": len(ServiceRequest.Channel.values),
                "technicians": [t.pk for t in crew],
            }
            with connection.cursor() as cursor:
                for statement in SEED_SQL.split(";\n"):
                    if statement.strip():
                        cursor.execute(statement, params)
                cursor.execute(
                    "SELECT count(*), max(n) FROM (SELECT count(*) AS n FROM technicians_visit "
                    "WHERE tenant_id = %s GROUP BY date_trunc('hour', planned_start)) AS hours",
                    [tenant.pk],
                )
                _hours, busiest = cursor.fetchone()
                if busiest and busiest > TECHNICIANS:
                    raise RuntimeError(f"{busiest} visits in one hour: more than technicians")
                tenant_counts = {}
                for table in (
                    "requests_app_servicerequest",
                    "technicians_visit",
                    "requests_app_statuschange",
                    "technicians_shift",
                    "requests_app_customer",
                ):
                    sql = f"SELECT count(*) FROM {table} WHERE tenant_id = %s"  # noqa: S608
                    cursor.execute(sql, [tenant.pk])
                    tenant_counts[table.split("_", 1)[1]] = cursor.fetchone()[0]
                tenant_counts["busiest_hour_visits"] = busiest
            session = import_module(settings.SESSION_ENGINE).SessionStore()
            session[SESSION_KEY] = str(manager.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = manager.get_session_auth_hash()
            session.create()
        out[slug] = (tenant.pk, session.session_key)
        counts[slug] = tenant_counts
    return out, counts


# ── measurements ─────────────────────────────────────────────────────────────────────────────


def dashboard_paths(days: int, today) -> dict:
    start, end = (today - timedelta(days=days - 1)).isoformat(), today.isoformat()
    period = f"start={start}&end={end}"
    bucket = "day" if days <= 31 else "month"
    return {
        "summary": f"/api/v1/kpis/summary/?{period}",
        "trend": f"/api/v1/kpis/trend/?{period}&kpi=windows_kept&bucket={bucket}",
    }


# A dashboard computed all live at a million requests takes longer than gunicorn's default 30 s:
# workers and the client wait this long instead (the measure with the roll-up never comes near).
LIVE_TIMEOUT = 180


def rounds_of(port: int, session: str, paths: dict, rounds: int, warmup: int = 1) -> dict:
    """Each round: the product's paths one after the other (their sum is one dashboard load),
    and the bare read as many times; alternating which side goes first."""
    sums: dict[str, list[float]] = {"product": [], "bare": []}
    each: dict[str, list[float]] = {name: [] for name in paths}
    for round_ in range(warmup + rounds):
        sides = [("product", paths), ("bare", {f"bare{k}": BARE_PATH for k in paths})]
        if round_ % 2:
            sides.reverse()
        for side, chosen in sides:
            total = 0.0
            for name, path in chosen.items():
                seconds, status, _size = http_get(port, path, session, timeout=LIVE_TIMEOUT)
                if status != 200:
                    raise RuntimeError(f"GET {path} answered {status}")
                total += seconds
                if round_ >= warmup and side == "product":
                    each[name].append(seconds)
            if round_ >= warmup:
                sums[side].append(total)
        print(f"  round {round_ + 1}/{warmup + rounds}", flush=True)
    return {
        "product": spread(sums["product"]),
        "bare": spread(sums["bare"]),
        "each": {name: spread(values) for name, values in each.items()},
    }


def slowest_statements(session_tenant: int, paths: dict, limit: int = 3) -> list[dict]:
    """In-process (Django's test client): the slowest statements of the paths, with EXPLAIN
    (ANALYZE, BUFFERS) of the slowest one."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(tenant_id=session_tenant, role="manager"))
    captured = []
    for name, path in paths.items():
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        captured += [(float(q["time"]), name, q["sql"]) for q in queries.captured_queries]
        statements = len(queries.captured_queries)
        print(f"  {name}: {statements} statements", flush=True)
    captured.sort(key=lambda q: -q[0])
    out = [{"ms": round(t * 1000, 1), "path": n, "sql": s[:1500]} for t, n, s in captured[:limit]]
    if captured:
        from core.tenancy import every_tenant

        with every_tenant(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + captured[0][2])
            out[0]["explain"] = [row[0] for row in cursor.fetchall()]
    return out


def rollup(tenant_ids: list[int], today) -> dict:
    """The roll-up's service over the last 12 months of each tenant, as one run of days per
    tenant (the service works a month at a time, set-based); the beat task runs the same
    service over its last KPI_ROLLUP_DAYS days each night."""
    from accounts.models import Tenant
    from core.tenancy import every_tenant
    from reports import services

    started = time.perf_counter()
    per_tenant, kept, days = [], 0, 0
    with every_tenant():
        for tenant in Tenant.objects.filter(pk__in=tenant_ids).order_by("pk"):
            began = time.perf_counter()
            kept += services.daily_kpis_refresh_days(
                tenant=tenant, first=today - timedelta(days=365), last=today - timedelta(days=1)
            )
            days += 365
            per_tenant.append(round(time.perf_counter() - began, 1))
            print(f"  rolled up {tenant.slug}: {per_tenant[-1]:.0f} s", flush=True)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 1),
        "days": days,
        "rows_kept": kept,
        "per_tenant_s": per_tenant,
        "per_day_ms": round(1000 * seconds / days, 1),
    }


EXPORT_CHILD = """
import json, os, sys, tempfile, time
rows_wanted, mode = int(sys.argv[1]), sys.argv[2]
if mode == "bare":
    import xlsxwriter
    started = time.perf_counter()
    with tempfile.TemporaryFile() as handle:
        book = xlsxwriter.Workbook(handle, {"constant_memory": True, "in_memory": False})
        sheet = book.add_worksheet("KPI")
        row = ["SR-000001", "Planned", "Repair", "Phone call", "Completed", "Customer 1",
               "2025-01-01 10:00"]
        for n in range(rows_wanted + 1):
            sheet.write_row(n, 0, row)
        book.close()
        size = handle.tell()
    done = rows_wanted
else:
    import django
    django.setup()
    from datetime import date
    from accounts.models import Tenant
    from core.tenancy import every_tenant
    from reports import selectors, services
    with every_tenant():
        tenant = Tenant.objects.get(pk=int(sys.argv[3]))
        today = date.fromisoformat(sys.argv[4])
        f = selectors.kpi_filter_for(tenant=tenant, first=date(today.year - 1, today.month,
                                     today.day), last=today)
        rows = selectors.kpi_requests(key="repeat_requests", f=f, tenant=tenant, part="all")
        rows = rows[:rows_wanted]
        started = time.perf_counter()
        with tempfile.TemporaryFile() as handle:
            counted = []
            services.export_file_write(kind="xlsx", rows=selectors.kpi_export_rows(rows, f.zone),
                                       handle=handle, total=rows_wanted,
                                       on_progress=counted.append)
            size = handle.tell()
        done = counted[-1]
seconds = time.perf_counter() - started
# VmHWM, not ru_maxrss: Linux keeps the forking parent's maximum across exec.
peak = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"rows": done, "seconds": round(seconds, 2), "bytes": size,
                  "rows_per_s": round(done / seconds),
                  "peak_rss_mb": round(int(peak) / 1024, 1)}))
"""


def export(env: dict, rows: int, tenant_id: int, today) -> dict:
    out = {}
    for mode in ("product", "bare"):
        answer = subprocess.run(
            [sys.executable, "-c", EXPORT_CHILD, str(rows), mode, str(tenant_id), str(today)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if answer.returncode:
            raise RuntimeError(f"export {mode} failed: {answer.stderr[-2000:]}")
        out[mode] = json.loads(answer.stdout.strip().splitlines()[-1])
    return out


# ── the run ──────────────────────────────────────────────────────────────────────────────────


def ratio(product, bare):
    return round(product / bare, 2) if product and bare else None


def rows(result: dict) -> list[tuple]:
    out = []
    for name, key, target in (
        ("dashboard_month_ms live only", "month_live", "dashboard_month_ms_p99"),
        ("dashboard_month_ms", "month", "dashboard_month_ms_p99"),
        ("dashboard_year_ms", "year", "dashboard_year_ms_p99"),
        ("drilldown_ms", "drilldown", "drilldown_ms_p99"),
    ):
        m = result[key]
        p, b = m["product"], m["bare"]
        out.append(
            (
                f"{name} p50 / p99",
                f"{p['p50_ms']} / {p['p99_ms']}",
                f"{b['p50_ms']} / {b['p99_ms']}",
                ratio(p["p99_ms"], b["p99_ms"]),
                TARGETS[target],
                (p["p99_ms"] or 1e9) <= TARGETS[target],
            )
        )
    e = result["export"]
    out += [
        (
            "export_rows_per_s",
            e["product"]["rows_per_s"],
            e["bare"]["rows_per_s"],
            ratio(e["product"]["rows_per_s"], e["bare"]["rows_per_s"]),
            None,
            None,
        ),
        (
            "export_peak_rss_mb",
            e["product"]["peak_rss_mb"],
            e["bare"]["peak_rss_mb"],
            ratio(e["product"]["peak_rss_mb"], e["bare"]["peak_rss_mb"]),
            TARGETS["export_peak_rss_mb"],
            e["product"]["peak_rss_mb"] <= TARGETS["export_peak_rss_mb"],
        ),
        ("rollup_s (365 days × 2 tenants)", result["rollup"]["seconds"], "", "", None, None),
    ]
    return out


def table(result: dict) -> str:
    return metrics_table(rows(result), metric=36, baseline=15)


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.kpis", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--year-rounds", type=int, default=None, help="default: --rounds")
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument(
        "--live-rounds", type=int, default=3, help="rounds of the all-live month (no target)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    began, load_at_start = time.time(), os.getloadavg()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    database_url, redis_url = bench_stores(DB_NAME, BENCH_REDIS_DB)
    logs = Path(tempfile.mkdtemp(prefix="kpis-"))
    env = bench_env(database_url, redis_url)
    os.environ.update(env)
    server_version = bench_django(DB_NAME)
    from django.db import connection
    from django.utils import timezone

    from core.tenancy import every_tenant

    migrated = time.time()
    now = timezone.now()
    with every_tenant():
        tenants, counts = seed(requests=args.requests, now=now)
    analyze()
    seeded_at = time.time()
    print(f"· seeded in {seeded_at - migrated:.1f} s: {counts}", flush=True)
    tenant_id, session = tenants[TENANTS[0]]
    from accounts.models import Tenant

    with every_tenant():
        today = timezone.localdate(timezone=Tenant.objects.get(pk=tenant_id).zone)
    month, year = dashboard_paths(30, today), dashboard_paths(365, today)
    start = (today - timedelta(days=364)).isoformat()
    drill = {
        "requests": f"/api/v1/kpis/requests/?kpi=windows_kept&part=misses&start={start}"
        f"&end={today.isoformat()}"
    }

    result: dict = {"statements": {}}
    print("· slowest statements, month live only", flush=True)
    result["statements"]["month_live"] = slowest_statements(tenant_id, month)
    connection.close()
    gunicorn = Server({**env, "GUNICORN_CMD_ARGS": f"--timeout {LIVE_TIMEOUT}"}, logs, args.workers)
    try:
        gunicorn.start()
        print("· month, live only", flush=True)
        result["month_live"] = rounds_of(gunicorn.port, session, month, args.live_rounds)
        print("· the nightly roll-up over the year", flush=True)
        result["rollup"] = rollup([t for t, _s in tenants.values()], today)
        connection.close()
        print("· month with the roll-up", flush=True)
        result["month"] = rounds_of(gunicorn.port, session, month, args.rounds)
        print("· year with the roll-up", flush=True)
        result["year"] = rounds_of(gunicorn.port, session, year, args.year_rounds or args.rounds)
        print("· drill-down", flush=True)
        result["drilldown"] = rounds_of(gunicorn.port, session, drill, args.rounds)
    finally:
        gunicorn.stop()
        queue_purge(redis_url)
    print("· slowest statements, year and drill-down", flush=True)
    result["statements"]["year"] = slowest_statements(tenant_id, year)
    result["statements"]["drilldown"] = slowest_statements(tenant_id, drill)
    connection.close()
    print("· export", flush=True)
    result["export"] = export(env, args.export_rows, tenant_id, today)

    def metric(key, target):
        p, b = result[key]["product"], result[key]["bare"]
        return {
            "p50": p["p50_ms"],
            "p99": p["p99_ms"],
            "bare_p50": b["p50_ms"],
            "bare_p99": b["p99_ms"],
            "ratio_p99": ratio(p["p99_ms"], b["p99_ms"]),
            "target_p99": TARGETS[target],
            "met": (p["p99_ms"] or 1e9) <= TARGETS[target],
        }

    e = result["export"]
    output = {
        "benchmark": "kpis",
        "description": "the manager's KPIs over a year of data: dashboard (summary + trend) "
        "for a month and a year over HTTP vs a bare DRF read, the drill-down's first page, an "
        "XLSX export vs raw XlsxWriter, the nightly roll-up over the year",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "dashboard_month_ms_live_only": metric("month_live", "dashboard_month_ms_p99"),
        "dashboard_month_ms": metric("month", "dashboard_month_ms_p99"),
        "dashboard_year_ms": metric("year", "dashboard_year_ms_p99"),
        "drilldown_ms": metric("drilldown", "drilldown_ms_p99"),
        "export_rows_per_s": {
            "product": e["product"]["rows_per_s"],
            "bare": e["bare"]["rows_per_s"],
            "rows": e["product"]["rows"],
        },
        "export_peak_rss_mb": {
            "product": e["product"]["peak_rss_mb"],
            "bare": e["bare"]["peak_rss_mb"],
            "target": TARGETS["export_peak_rss_mb"],
            "met": e["product"]["peak_rss_mb"] <= TARGETS["export_peak_rss_mb"],
        },
        "rollup_s": result["rollup"]["seconds"],
        "details": result,
        "machine": machine(load_at_start, server_version, database_url),
        "parameters": {
            "requests": args.requests,
            "tenants": len(TENANTS),
            "technicians": TECHNICIANS * len(TENANTS),
            "months": 12,
            "rounds": args.rounds,
            "year_rounds": args.year_rounds or args.rounds,
            "live_rounds": args.live_rounds,
            "export_rows": args.export_rows,
            "seeded": counts,
            "servers": f"gunicorn -w {args.workers} (sync), persistent DB connections; DEBUG "
            "off; no Celery worker (the roll-up's service is called in-process)",
            "paths": {"month": month, "year": year, "drilldown": drill},
        },
        "durations_s": {
            "migrate_and_static": round(migrated - began, 1),
            "seed": round(seeded_at - migrated, 1),
            "total": round(time.time() - began, 1),
        },
        "logs": str(logs),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2, default=str) + "\n")
    print()
    print(table(result))
    print(f"\nwrote {args.output} in {time.time() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
