"""WSGI or ASGI for HTTP? The same Django endpoints under gunicorn (sync) and uvicorn.

    python -m bench.http_servers [--seconds 10 --connections 16 --workers 2]

(`make bench-http` runs it with the embedded servers when DATABASE_URL is unset.) Needs `wrk`
(Debian: apt-get install wrk). Loads two endpoints on 127.0.0.1 — `/health/` (plain Django, one
query) and `/api/v1/requests/?limit=10` (DRF, token auth, serializer, four queries) — under
gunicorn with N sync workers and uvicorn with N workers, one after the other, and writes
bench/results/http_servers.json. The WebSocket server stays ASGI either way.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from devtools.devstack import free_port, recreate_database, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
DB_NAME = "dispatch_bench_http"


def seed(env: dict) -> str:
    script = """
from knox.models import AuthToken
from accounts.models import Role, Tenant, User
from tests.factories import CustomerFactory, RequestFactory
tenant = Tenant.objects.create(name="Bench", slug="bench")
user = User.objects.create(username="bench", tenant=tenant, role=Role.DISPATCHER)
customer = CustomerFactory(tenant=tenant)
RequestFactory.create_batch(50, tenant=tenant, customer=customer)
print(AuthToken.objects.create(user)[1])
"""
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def server(kind: str, port: int, workers: int) -> list[str]:
    if kind == "gunicorn (WSGI, sync)":
        return [
            str(BIN / "gunicorn"),
            "config.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--log-level",
            "warning",
        ]
    return [
        str(BIN / "uvicorn"),
        "config.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def wrk(url: str, token: str, seconds: int, connections: int) -> dict:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"Authorization: Token {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": round(rps, 1),
        "p99_ms": round(float(p99.group(1)) * scale, 1),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    env = {
        **os.environ,
        "DATABASE_URL": recreate_database(
            os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dispatch"), DB_NAME
        ),
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    token = seed(env)
    endpoints = {
        "/health/live/": "plain Django view, no query",
        "/api/v1/requests/?limit=10": "DRF list, token auth, serializer",
    }
    kinds = ["gunicorn (WSGI, sync)", "uvicorn (ASGI)"]
    results: dict = {path: {} for path in endpoints}
    for kind in kinds:
        port = free_port()
        # Each server with Django's advice for it: persistent connections under WSGI; none
        # under ASGI, where sync views run in a thread pool and every thread would keep one.
        server_env = {**env, "DATABASE_CONN_MAX_AGE": "60" if "WSGI" in kind else "0"}
        process = subprocess.Popen(
            server(kind, port, args.workers), cwd=ROOT, env=server_env, start_new_session=True
        )
        try:
            wait_for_port(port, process=process)
            for path in endpoints:
                url = f"http://127.0.0.1:{port}{path}"
                wrk(url, token, 2, args.connections)  # warm up
                results[path][kind] = wrk(url, token, args.seconds, args.connections)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)

    print(f"\n{'endpoint':32} {'server':24} {'req/s':>8} {'p99 ms':>8}")
    for path, by_kind in results.items():
        for kind, row in by_kind.items():
            print(f"{path:32} {kind:24} {row['rps']:>8} {row['p99_ms']:>8}")
        ratio = by_kind[kinds[0]]["rps"] / by_kind[kinds[1]]["rps"]
        by_kind["wsgi_to_asgi_rps_ratio"] = round(ratio, 2)
        print(f"{'':32} {'WSGI ÷ ASGI throughput':24} {ratio:>8.2f}")
    payload = {
        "endpoints": {path: {"what": endpoints[path], **results[path]} for path in endpoints},
        "settings": vars(args),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "date": datetime.now(UTC).isoformat(),
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "http_servers.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {RESULTS / 'http_servers.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
