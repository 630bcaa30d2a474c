"""Smoke test of `make up` on the embedded path, as a newcomer would run it.

Boots the whole stack (embedded PostgreSQL and Redis, web, WebSocket, worker, beat, demo data),
signs in as the demo dispatcher, creates an emergency over HTTP, waits for the WebSocket event
saying it was assigned, then stops the stack with Ctrl-C and checks it exits cleanly.
Run: `python -m devtools.smoke` (CI runs it with DATABASE_URL and REDIS_URL unset).
"""

import asyncio
import http.cookiejar
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

import websockets

from devtools.devstack import ROOT, free_port

BOOT_SECONDS = 240


def log(message: str) -> None:
    print(f"[smoke] {message}", flush=True)


class Browser:
    """Just enough of a browser: cookies, CSRF, JSON."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as response:
            return response.read().decode()

    def post(self, path: str, data: bytes, content_type: str) -> str:
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method="POST",
            headers={
                "Content-Type": content_type,
                "X-CSRFToken": self.cookie("csrftoken"),
                "Referer": self.base + path,
            },
        )
        with self.opener.open(request, timeout=10) as response:
            return response.read().decode()

    def login(self, username: str, password: str) -> None:
        page = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token}
        ).encode()
        self.post("/accounts/login/", form, "application/x-www-form-urlencoded")
        self.cookie("sessionid")


def wait_healthy(base: str, stack: subprocess.Popen) -> None:
    deadline = time.monotonic() + BOOT_SECONDS
    while time.monotonic() < deadline:
        if stack.poll() is not None:
            raise SystemExit(f"make up exited early with {stack.returncode}")
        try:
            with urllib.request.urlopen(base + "/health/live/", timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit("the stack did not become healthy in time")


async def create_and_watch(browser: Browser, ws_port: int) -> dict:
    any_request = json.loads(browser.get("/api/v1/requests/?limit=1"))["results"][0]
    headers = {"Cookie": f"sessionid={browser.cookie('sessionid')}", "Origin": browser.base}
    async with websockets.connect(
        f"ws://localhost:{ws_port}/ws/dispatch/", additional_headers=headers
    ) as socket:
        body = json.dumps(
            {
                "kind": "emergency",
                "category": "outage",
                "customer": any_request["customer"],
                "description": "smoke test",
            }
        ).encode()
        created = json.loads(browser.post("/api/v1/requests/", body, "application/json"))
        log(f"created {created['number']}; waiting for the WebSocket event")
        async with asyncio.timeout(60):
            async for raw in socket:
                data = json.loads(raw).get("data", {})
                if data.get("id") == created["id"] and data.get("status") in (
                    "assigned",
                    "escalated",
                ):
                    return data


def main() -> int:
    port, ws_port = free_port(), free_port()
    data_dir = tempfile.mkdtemp(prefix="dispatch-smoke-")
    env = {**os.environ, "DISPATCH_DATA_DIR": data_dir, "PORT": str(port), "WS_PORT": str(ws_port)}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    log(f"booting the embedded stack in {data_dir}")
    stack = subprocess.Popen(
        [sys.executable, "-m", "devtools.devstack", "up"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://localhost:{port}"
    try:
        wait_healthy(base, stack)
        browser = Browser(base)
        browser.login("dispatcher", "demo12345")
        data = asyncio.run(create_and_watch(browser, ws_port))
        who = (data.get("visit") or {}).get("technician", "the dispatchers")
        log(f"{data['number']} is {data['status']} ({who}) — pushed live")
    finally:
        log("stopping with Ctrl-C")
        os.killpg(stack.pid, signal.SIGINT)
        code = stack.wait(timeout=60)
    leftovers = subprocess.run(
        ["pgrep", "-f", data_dir], capture_output=True, text=True
    ).stdout.split()
    if leftovers:
        raise SystemExit(f"processes left running: {leftovers}")
    log(f"stack stopped with exit code {code}")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
