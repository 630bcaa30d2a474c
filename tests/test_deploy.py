"""Production settings pass Django's deploy checks, and docker-compose runs real modules."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from django.conf import settings

from config.celery import QUEUES
from devtools.devstack import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-" + "y" * 20,
    "DJANGO_ALLOWED_HOSTS": "dispatch.example.com",
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=60,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {**PRODUCTION, "DJANGO_SECRET_KEY": ""}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_a_malformed_boolean_setting_fails_loudly():
    result = manage("check", env={"DJANGO_DEBUG": "maybe"})
    assert result.returncode != 0
    assert "not a boolean" in result.stderr


def test_every_environment_variable_is_listed_in_env_example():
    source = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z_]+)"', source))
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - listed == set()


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_production_services(compose):
    assert {"postgres", "redis", "web", "ws", "worker", "beat"} <= set(compose["services"])
    for name in ("postgres", "redis"):
        assert "healthcheck" in compose["services"][name]


def _import_target(target: str):
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def test_every_compose_command_points_at_a_real_module(compose):
    from django.core.management import get_commands

    checked = 0
    for name, service in compose["services"].items():
        command = service.get("command")
        if not command or "build" not in service:
            continue
        program = command[0]
        if program in ("gunicorn", "uvicorn"):
            assert callable(_import_target(command[1])), name
        elif program == "celery":
            app = importlib.import_module(command[command.index("-A") + 1]).celery_app
            assert app.main == "dispatch"
            if "-Q" in command:
                assert set(command[command.index("-Q") + 1].split(",")) == set(QUEUES)
        elif program == "python":
            assert command[1] == "manage.py" and command[2] in get_commands(), name
        else:
            pytest.fail(f"{name}: unknown program {program}")
        checked += 1
    assert checked >= 5


def test_only_migrate_connects_as_the_owner_and_the_rest_as_the_application_role(compose):
    """The application's processes log in as the role row-level security binds (created at the
    volume's first start), so none can switch back to the owner; migrations run as the owner."""
    services = compose["services"]
    user = {
        # ${VARIABLE:?message} is compose's: the message would read as a query string.
        name: urlparse(
            re.sub(r"\$\{[^}]*\}", "secret", service["environment"]["DATABASE_URL"])
        ).username
        for name, service in services.items()
        if "DATABASE_URL" in service.get("environment", {})
    }
    owner = services["postgres"]["environment"]["POSTGRES_USER"]

    assert user.pop("migrate") == owner
    assert set(user.values()) == {settings.DATABASE_APP_ROLE} != {owner}
    assert {"web", "ws", "worker", "beat"} <= set(user)
    init = (ROOT / "deploy" / "postgres-app-role.sh").read_text()
    assert "NOBYPASSRLS" in init and "NOSUPERUSER" in init
    assert any("postgres-app-role.sh" in volume for volume in services["postgres"]["volumes"])


def test_the_proxy_routes_websockets_to_the_asgi_server(compose):
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server ws:8001" in conf and "server web:8000" in conf
    assert "8001" in compose["services"]["ws"]["command"]
    assert "0.0.0.0:8000" in compose["services"]["web"]["command"]


@pytest.mark.django_db
def test_the_api_schema_is_for_signed_in_users_unless_made_public(client, dispatcher, settings):
    settings.API_SCHEMA_PUBLIC = False
    assert client.get("/api/schema/").status_code == 401
    assert client.get("/api/docs/").status_code == 401

    client.force_login(dispatcher)
    assert client.get("/api/schema/").status_code == 200

    client.logout()
    settings.API_SCHEMA_PUBLIC = True
    assert client.get("/api/schema/").status_code == 200


def test_production_settings_keep_the_schema_private():
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.API_SCHEMA_PUBLIC)",
        env=PRODUCTION,
    )
    assert result.stdout.strip().endswith("False"), result.stderr


def test_the_web_health_check_passes_under_production_settings(compose, tmp_path):
    """The compose health check, run against a real gunicorn with the example's production
    settings (an allowed host name, HTTPS redirects on)."""
    port = free_port()
    env = {**os.environ, **PRODUCTION, "DJANGO_ALLOWED_HOSTS": "dispatch.example.com"}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process=server)
        test = compose["services"]["web"]["healthcheck"]["test"]
        assert test[:2] == ["CMD", "python"]
        command = [sys.executable, *[part.replace(":8000/", f":{port}/") for part in test[2:]]]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert result.returncode == 0, result.stderr


def test_the_proxy_keeps_the_scheme_an_outer_proxy_reports():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "map $http_x_forwarded_proto $forwarded_proto" in conf
    assert "X-Forwarded-Proto $scheme" not in conf
