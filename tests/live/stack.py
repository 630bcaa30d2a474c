"""Start real processes (ASGI server, Celery worker) against the test database."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from devtools.devstack import wait_for_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_database_url() -> str:
    """The URL of the database pytest-django created, for processes outside this one."""
    s = connection.settings_dict
    host = quote(s["HOST"] or "", safe="")
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{s['USER']}@{host}{port}/{s['NAME']}"


APP_NAME = "dispatch-live-test"


def environment(**extra: str) -> dict:
    # PGAPPNAME tags the spawned processes' connections, so teardown can close exactly those.
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "PGAPPNAME": APP_NAME,
        **extra,
    }


def start_asgi(port: int, env: dict) -> subprocess.Popen:
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
        env=env,
    )
    wait_for_port(port)
    return process


def start_worker(env: dict, *, concurrency: int = 2, hostname: str = "test") -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "-Q",
            "assign,plan,notify,default",
            "-c",
            str(concurrency),
            "-l",
            "WARNING",
            "-n",
            f"{hostname}@%h",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own group: a test may kill it whole
    )
    return process


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def close_other_sessions() -> None:
    """Processes just stopped may leave a backend closing; the test database is dropped next.
    Done as the owner (the suite works as the application role, which may end no session)."""
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        try:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = %s",
                [APP_NAME],
            )
        finally:
            cursor.execute(f'SET ROLE "{settings.DATABASE_APP_ROLE}"')
