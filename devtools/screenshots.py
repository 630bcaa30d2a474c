"""Screenshots of each user's screen, for the README: `make screenshots`.

Boots the demo (a fresh database with `seed_demo`, gunicorn and uvicorn on loopback ports),
signs in as each user in Debian's Chromium at their screen size and writes
`docs/screenshots/<screen>.png`. Run it after a change to a screen and commit the pictures.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from playwright.sync_api import sync_playwright

from devtools.devstack import ROOT, free_port, recreate_database, wait_for_port

OUT = ROOT / "docs" / "screenshots"
BIN = Path(sys.executable).parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DESK, PHONE = {"width": 1440, "height": 900}, {"width": 390, "height": 844}
PASSWORD = "demo12345"  # noqa: S105 — the demo's published password


def main() -> int:
    server = os.environ["DATABASE_URL"]
    database = urlunparse(urlparse(server)._replace(path="/dispatch_screenshots"))
    recreate_database(server, "dispatch_screenshots")
    http, ws = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "WS_PUBLIC_URL": f":{ws}",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{http}",
        "RATELIMIT_ENABLE": "false",
        "MAP_TILE_URL": "none",  # no internet here: the map shows its markers alone
    }
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    servers = [
        subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "config.wsgi:application",
                "-b",
                f"127.0.0.1:{http}",
                "-w",
                "2",
            ],
            cwd=ROOT,
            env=env,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [
                str(BIN / "uvicorn"),
                "config.asgi:application",
                "--port",
                str(ws),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        ),
    ]
    try:
        wait_for_port(http, process=servers[0])
        wait_for_port(ws, process=servers[1])
        shoot(f"http://127.0.0.1:{http}", *demo_targets(env))
    finally:
        for process in servers:
            process.terminate()
            process.wait(timeout=10)
    print(f"wrote {len(list(OUT.glob('*.png')))} screenshots to {OUT.relative_to(ROOT)}")
    return 0


def demo_targets(env: dict) -> tuple[str, str]:
    """A planned request's tracking link, and the phone of a caller with a history."""
    script = (
        "import django; django.setup(); from requests_app.models import ServiceRequest; "
        "from requests_app.tracking import tracking_url; "
        "r = ServiceRequest.objects.filter(kind='planned', window_start__isnull=False, "
        "tenant__slug='almaty-telecom').order_by('pk').first(); "
        "print(tracking_url(r)); print(r.customer.phone)"
    )
    env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    link, phone = result.stdout.strip().splitlines()[-2:]
    return link, phone


def shoot(base: str, tracking: str, phone: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    screens = [
        ("board", "dispatcher", DESK, "/board/", "en"),
        ("board-ru", "dispatcher", DESK, "/board/", "ru"),
        ("board-kk", "dispatcher", DESK, "/board/", "kk"),
        ("board-drawer", "dispatcher", DESK, "/board/#first", "en"),
        ("technician-day", "technician1", PHONE, "/tech/", "en"),
        ("technician-day-kk", "technician1", PHONE, "/tech/", "kk"),
        (
            "operator-console",
            "operator",
            DESK,
            "/console/?dialled=%2B77272000001&phone=" + phone.replace("+", "%2B"),
            "en",
        ),
        ("admin-tenant", "admin", DESK, "/admin/", "en"),
        ("manager-reports", "manager", DESK, "/reports/", "en"),
        ("manager-surveys", "manager", DESK, "/surveys/", "ru"),
        ("manager-contact-center", "manager", DESK, "/reports/contacts/", "en"),
        ("operator-contacts", "operator", DESK, "/contacts/", "en"),
        ("operator-contact", "operator", DESK, "/contacts/#first", "ru"),
        ("supervisor-contacts", "manager", DESK, "/contacts/supervisor/", "kk"),
        ("chat-widget", None, PHONE, "/chat/demo/almaty-telecom/#open", "en"),
        ("customer-portal", None, PHONE, "/p/almaty-telecom/", "en"),
        ("customer-tracking", None, PHONE, tracking.removeprefix(base), "ru"),
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        for name, user, viewport, path, language in screens:
            context = browser.new_context(viewport=viewport)
            context.add_cookies([{"name": "django_language", "value": language, "url": base}])
            page = context.new_page()
            if user:
                page.goto(f"{base}/accounts/login/")
                page.fill("input[name=username]", user)
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_load_state("networkidle")
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            time.sleep(1.0)  # the live badge, the timeline and fonts settle
            if path == "/board/#first":  # the board with the first job's drawer open
                page.locator("tbody#rows tr[data-id]").first.click()
                page.get_by_test_id("drawer").wait_for()
                time.sleep(0.5)
            elif path == "/contacts/#first":  # the first contact of the operator's queue
                page.locator("#contact-rows tr[data-id] a").first.click()
                page.get_by_test_id("conversation").wait_for()
                time.sleep(0.5)
            elif path.endswith("#open"):  # a client's page with its chat widget open
                page.get_by_test_id("chat-launcher").click()
                page.get_by_test_id("chat-panel").wait_for()
                time.sleep(0.5)
            page.screenshot(path=str(OUT / f"{name}.png"))
            context.close()
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
