"""What each process measures (core.observability) and /metrics adds up: requests by route,
tasks by outcome, the engine's assignments and escalations, open sockets, queue age."""

import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from channels.db import database_sync_to_async
from prometheus_client import REGISTRY

from config import gunicorn
from config.celery import app
from core.redis_client import redis_client
from dispatch.engine.emergency import request_assign
from dispatch.engine.reconcile import request_escalate_stuck
from requests_app.models import ServiceRequest
from tests.dispatch.test_consumers import connect
from tests.factories import RequestFactory, TechnicianFactory

ROOT = Path(__file__).resolve().parents[2]
SCRAPE = {"Authorization": "Bearer scrape-me"}


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0


def scrape(client, settings) -> str:
    settings.METRICS_TOKEN = "scrape-me"
    response = client.get("/metrics", headers=SCRAPE)
    assert response.status_code == 200
    return response.content.decode()


@app.task(name="tests.core.fine")
def fine():
    time.sleep(0.01)


@app.task(name="tests.core.broken")
def broken():
    raise RuntimeError("broken on purpose")


@app.task(name="tests.core.flaky", bind=True, max_retries=1)
def flaky(self):
    if self.request.retries == 0:
        raise self.retry(countdown=0)


@pytest.mark.django_db
def test_a_request_is_counted_under_its_route_name_not_its_path(api, dispatcher):
    count = "dispatch_http_request_duration_seconds_count"
    before = sample(count, method="GET", route="request-detail", status="4xx")

    api(dispatcher).get("/api/v1/requests/987654/")

    assert sample(count, method="GET", route="request-detail", status="4xx") == before + 1
    paths = [
        s.labels["route"]
        for metric in REGISTRY.collect()
        if metric.name == "dispatch_http_request_duration_seconds"
        for s in metric.samples
    ]
    assert not any("987654" in route for route in paths)


def test_a_page_that_does_not_exist_is_counted_as_unmatched(client, db):
    count = "dispatch_http_request_duration_seconds_count"
    before = sample(count, method="GET", route="unmatched", status="4xx")

    client.get("/no-such-page/123/")

    assert sample(count, method="GET", route="unmatched", status="4xx") == before + 1


def test_a_task_run_through_the_signals_records_its_latency_and_outcome():
    durations = "dispatch_task_duration_seconds_sum"
    before = sample(durations, task="tests.core.fine")

    fine.apply()
    broken.apply()
    flaky.apply()

    assert sample(durations, task="tests.core.fine") >= before + 0.01
    assert sample("dispatch_task_duration_seconds_count", task="tests.core.broken") >= 1
    assert sample("dispatch_tasks_total", task="tests.core.fine", outcome="success") >= 1
    assert sample("dispatch_tasks_total", task="tests.core.broken", outcome="failure") >= 1
    assert sample("dispatch_tasks_total", task="tests.core.flaky", outcome="retry") >= 1


@pytest.mark.django_db
def test_assignments_and_escalations_are_counted_once_committed(
    tenant, django_capture_on_commit_callbacks
):
    assigned = {"policy": "soonest_eta_v2"}
    nobody = {"reason": "no_technician"}
    before = sample("dispatch_assignments_total", **assigned)
    escalated_before = sample("dispatch_escalations_total", **nobody)
    alone = RequestFactory(tenant=tenant, kind=ServiceRequest.Kind.EMERGENCY)

    with django_capture_on_commit_callbacks() as callbacks:
        request_assign(request_id=alone.pk)
    assert sample("dispatch_escalations_total", **nobody) == escalated_before  # not yet
    for callback in callbacks:
        callback()

    TechnicianFactory(tenant=tenant)
    placed = RequestFactory(tenant=tenant, kind=ServiceRequest.Kind.EMERGENCY)
    with django_capture_on_commit_callbacks(execute=True):
        request_assign(request_id=placed.pk)

    assert sample("dispatch_escalations_total", **nobody) == escalated_before + 1
    assert sample("dispatch_assignments_total", **assigned) == before + 1


@pytest.mark.django_db
def test_the_reconciler_counts_an_escalation_after_too_many_attempts(
    tenant, django_capture_on_commit_callbacks
):
    exhausted = {"reason": "attempts_exhausted"}
    before = sample("dispatch_escalations_total", **exhausted)
    stuck = RequestFactory(tenant=tenant, kind=ServiceRequest.Kind.EMERGENCY)

    with django_capture_on_commit_callbacks(execute=True):
        assert request_escalate_stuck(request_id=stuck.pk)

    assert sample("dispatch_escalations_total", **exhausted) == before + 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_socket_moves_the_open_sockets_gauge_while_it_is_open(dispatcher):
    before = sample("dispatch_websocket_clients", kind="dispatcher")
    communicator, connected = await connect("/ws/dispatch/", dispatcher)
    assert connected

    assert sample("dispatch_websocket_clients", kind="dispatcher") == before + 1
    await communicator.disconnect()
    assert sample("dispatch_websocket_clients", kind="dispatcher") == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_refused_socket_is_not_counted(technician):
    before = sample("dispatch_websocket_clients", kind="dispatcher")
    user = await database_sync_to_async(lambda: technician.user)()
    _communicator, connected = await connect("/ws/dispatch/", user)
    assert not connected

    assert sample("dispatch_websocket_clients", kind="dispatcher") == before


MEASURE = """
import sys
from core import observability
observability.TASKS.labels("tests.core.fine", "success").inc(int(sys.argv[1]))
observability.socket_opened("technician")
"""


def measure_in_a_process(folder: Path, times: int) -> int:
    """Run a process that counts `times` tasks and opens one socket; return its pid."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    process = subprocess.run(
        [sys.executable, "-c", MEASURE + "print(__import__('os').getpid())", str(times)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return int(process.stdout.strip())


@pytest.mark.django_db
def test_metrics_add_up_the_processes_of_every_service(client, settings, tmp_path):
    measure_in_a_process(tmp_path / "web", 2)
    measure_in_a_process(tmp_path / "worker", 3)
    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path / "web")

    text = scrape(client, settings)

    assert 'dispatch_tasks_total{outcome="success",task="tests.core.fine"} 5.0' in text
    assert 'dispatch_websocket_clients{kind="technician"} 2.0' in text
    assert "dispatch_requests_waiting" in text  # the state read at scrape time, in one answer


@pytest.mark.django_db
def test_a_gunicorn_worker_that_exits_takes_its_open_sockets_with_it(
    client, settings, tmp_path, monkeypatch
):
    pid = measure_in_a_process(tmp_path / "web", 1)
    measure_in_a_process(tmp_path / "web", 1)
    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path / "web")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "web"))

    gunicorn.child_exit(None, SimpleNamespace(pid=pid))

    assert 'dispatch_websocket_clients{kind="technician"} 1.0' in scrape(client, settings)


@pytest.mark.django_db
def test_the_age_of_the_oldest_message_of_each_queue_is_read_from_redis(client, settings):
    redis_client().delete("plan", "assign")
    app.send_task("tests.core.fine", queue="plan")
    time.sleep(0.05)

    try:
        text = scrape(client, settings)
    finally:
        redis_client().delete("plan")

    ages = {
        line.split()[0]: float(line.split()[1])
        for line in text.splitlines()
        if line.startswith("dispatch_queue_oldest_message_age_seconds{")
    }
    assert ages['dispatch_queue_oldest_message_age_seconds{queue="plan"}'] >= 0.05
    assert ages['dispatch_queue_oldest_message_age_seconds{queue="assign"}'] == 0
