"""A real Chromium (Debian's, via Playwright) against real server and worker processes."""

import os
import shutil
from pathlib import Path

import pytest

from devtools.devstack import free_port
from tests.live import stack

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def browser():
    """Module-scoped: Playwright's sync API keeps an event loop running in this thread while it
    is open, which must not leak into the async tests that run after the browser tests."""
    if not shutil.which(CHROMIUM):
        pytest.fail("Chromium is missing: apt-get install -y chromium (.ci/run does it)")
    from playwright.sync_api import sync_playwright

    # While that loop runs, the ORM calls the tests make between browser steps are ordinary
    # blocking calls, which Django would otherwise refuse.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--no-first-run",
                ],
            )
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def server(transactional_db):
    """One origin for HTTP and /ws/ (uvicorn), plus a Celery worker, on the test database."""
    # No map tiles: tests never reach the internet, and the map must show its markers without.
    env = stack.environment(MAP_TILE_URL="none")
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    port = free_port()
    asgi = stack.start_asgi(port, env)
    worker = stack.start_worker(env, hostname="browser")
    yield f"http://localhost:{port}"
    stack.stop(worker)
    stack.stop(asgi)
    stack.close_other_sessions()


@pytest.fixture
def screenshot():
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def login(page, base: str, username: str, password: str = "pw-for-tests-1") -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
