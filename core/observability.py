"""What a production team reads: logs that say which request or task wrote them, metrics each
process measures (requests, tasks, the engine's assignments and escalations, open sockets), and
(with SENTRY_DSN) errors reported to Sentry.

Every log record carries `request_id` (from the proxy's X-Request-ID, or made here, and sent
back in the answer) and `task_id` (the Celery task running). With LOG_FORMAT=json (the default
in production) each record is one JSON object.
"""

import logging
import os
import re
import shutil
import time
import uuid
from contextvars import ContextVar

from celery import signals, states
from django.db import transaction
from prometheus_client import Counter, Gauge, Histogram

request_id: ContextVar[str] = ContextVar("request_id", default="")
task_id: ContextVar[str] = ContextVar("task_id", default="")

HEADER = "X-Request-ID"
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(HEADER, "")
        # Left set after the answer, so Django's own line about it (a 404, a 500) carries it
        # too; the next request of this thread sets its own.
        request_id.set(given if _ACCEPTABLE.match(given) else uuid.uuid4().hex)
        response = self.get_response(request)
        response[HEADER] = request_id.get()
        return response


class ContextFilter(logging.Filter):
    """Adds the request and task ids to every record (empty outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.task_id = task_id.get()
        return True


# Pages whose address holds a key (a survey link /s/, a kiosk /k/, a tracking link /t/): the key
# is never written to a log, by Django's loggers or the web server's access log.
_KEYED_PATH = re.compile(r"(/[skt]/)[^/\s?\"']+")


def redact_paths(text: str) -> str:
    return _KEYED_PATH.sub(r"\1…", text)


class RedactFilter(logging.Filter):
    """Takes the keys out of the addresses a record mentions ("Not Found: /s/<token>/")."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_paths(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def task_started(task_id_value: str | None) -> None:
    task_id.set(task_id_value or "")


def sentry_start(dsn: str, *, environment: str, traces_sample_rate: float) -> None:
    import sentry_sdk  # only where a DSN is configured

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,  # customers' names and numbers stay here
    )


# Per-process metrics, added up across processes by /metrics (core.metrics). With
# PROMETHEUS_MULTIPROC_DIR set, prometheus_client keeps each value in a file of that directory
# named by process id, so gunicorn's and Celery's children add up; unset, they live in the
# process (tests, a one-process run). Labels are few and bounded: a route is its URL name, never
# the path a client typed.
HTTP_REQUESTS = Histogram(
    "dispatch_http_request_duration_seconds",
    "HTTP requests answered, by method, route (URL name) and status class.",
    ["method", "route", "status"],
)
TASKS = Counter("dispatch_tasks", "Celery tasks run, by task and outcome.", ["task", "outcome"])
TASK_DURATIONS = Histogram(
    "dispatch_task_duration_seconds",
    "How long Celery tasks ran, by task.",
    ["task"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
ASSIGNMENTS = Counter(
    "dispatch_assignments", "Visits the engine wrote (committed), by policy.", ["policy"]
)
ESCALATIONS = Counter(
    "dispatch_escalations",
    "Requests the engine handed to dispatchers (committed), by reason.",
    ["reason"],
)
SOCKETS = Gauge(
    "dispatch_websocket_clients",
    "Open WebSockets, by kind (dispatcher, technician).",
    ["kind"],
    multiprocess_mode="livesum",  # a dead process's sockets are gone with it
)
# Stamped on every task message, so /metrics can tell how long the oldest one has waited
# (Celery's own headers carry no send time).
PUBLISHED_AT = "published_at"
_OUTCOMES = {states.SUCCESS: "success", states.FAILURE: "failure", states.RETRY: "retry"}
_task_started: dict[str, float] = {}
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}  # any other: "other"


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        HTTP_REQUESTS.labels(
            request.method if request.method in _METHODS else "other",
            match.view_name if match else "unmatched",
            f"{response.status_code // 100}xx",
        ).observe(time.perf_counter() - started)
        return response


@signals.before_task_publish.connect
def _stamp_published_at(headers=None, **_) -> None:
    if headers is not None:
        headers.setdefault(PUBLISHED_AT, time.time())


@signals.task_prerun.connect
def _task_timer_start(task_id=None, **_) -> None:
    _task_started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _task_measured(sender=None, task_id=None, state=None, **_) -> None:
    started = _task_started.pop(task_id, None)
    if sender is None or started is None:
        return
    TASK_DURATIONS.labels(sender.name).observe(time.perf_counter() - started)
    TASKS.labels(sender.name, _OUTCOMES.get(state, str(state).lower())).inc()


def assignment_counted(*, policy: str) -> None:
    """Count a visit the engine writes, once its transaction commits (a rolled-back one is not)."""
    transaction.on_commit(ASSIGNMENTS.labels(policy).inc)


def escalation_counted(*, reason: str) -> None:
    transaction.on_commit(ESCALATIONS.labels(reason).inc)


def socket_opened(kind: str) -> None:
    SOCKETS.labels(kind).inc()


def socket_closed(kind: str) -> None:
    SOCKETS.labels(kind).dec()


def metrics_dir_reset() -> None:
    """Empty this service's PROMETHEUS_MULTIPROC_DIR: called once by the process that starts its
    others (gunicorn's master, Celery's main process, uvicorn's one), before any writes a value,
    as prometheus_client asks. Files of an earlier run would be added to this one's."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
