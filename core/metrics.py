"""`/metrics` for Prometheus: state read from PostgreSQL and Redis at scrape time, and what
each process measured (core.observability), in one answer.

The state says whether dispatching keeps up: work waiting by tenant and kind, the age of the
oldest emergency waiting and of the oldest message not sent, escalations open, assignments in
the last hour by outcome, Celery queue lengths and the age of each queue's oldest message, live
socket clients. Read from the truth at each scrape, it is the same from every process. The
measures (requests, tasks, assignments, escalations, open sockets) are added up across the
processes of every service from PROMETHEUS_MULTIPROC_DIR and the directories beside it, or,
without it, are this process's own. Off unless METRICS_TOKEN is set; Prometheus sends it as a
bearer token.
"""

import hmac
import json
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from config.celery import QUEUES
from core.observability import PUBLISHED_AT
from core.redis_client import UNREACHABLE, redis_client
from core.tenancy import every_tenant
from dispatch.models import Decision
from notifications.models import Notification
from requests_app.models import ServiceRequest
from requests_app.selectors import oldest_waiting_emergency_at

WAITING = ("new", "rescheduled", "escalated")
KINDS = ("counter", "gauge", "histogram", "summary")  # prometheus_client's files: <kind>_….db


class DispatchCollector:
    def collect(self):
        now = timezone.now()
        waiting = GaugeMetricFamily(
            "dispatch_requests_waiting",
            "Requests without a visit, by status.",
            labels=["tenant", "kind", "status"],
        )
        rows = (
            ServiceRequest.objects.filter(status__in=WAITING)
            .values("tenant__slug", "kind", "status")
            .annotate(n=Count("pk"))
        )
        for row in rows:
            waiting.add_metric([row["tenant__slug"], row["kind"], row["status"]], row["n"])
        yield waiting

        oldest = oldest_waiting_emergency_at()
        yield GaugeMetricFamily(
            "dispatch_emergency_oldest_wait_seconds",
            "How long the oldest emergency waiting for the engine has waited.",
            value=(now - oldest).total_seconds() if oldest else 0,
        )

        decisions = GaugeMetricFamily(
            "dispatch_decisions_last_hour",
            "Engine decisions in the last hour, by outcome.",
            labels=["outcome"],
        )
        hour = Decision.objects.filter(created_at__gte=now - timedelta(hours=1))
        for row in hour.values("outcome").annotate(n=Count("pk")):
            decisions.add_metric([row["outcome"]], row["n"])
        yield decisions

        pending = Notification.objects.filter(status=Notification.Status.PENDING).aggregate(
            n=Count("pk"), at=Min("created_at")
        )
        yield GaugeMetricFamily(
            "dispatch_notifications_pending", "Customer messages not sent yet.", value=pending["n"]
        )
        yield GaugeMetricFamily(
            "dispatch_notification_oldest_pending_seconds",
            "Age of the oldest customer message not sent yet.",
            value=(now - pending["at"]).total_seconds() if pending["at"] else 0,
        )
        yield from _redis_metrics()


def _redis_metrics():
    queues = GaugeMetricFamily(
        "dispatch_queue_length", "Celery messages waiting, by queue.", labels=["queue"]
    )
    ages = GaugeMetricFamily(
        "dispatch_queue_oldest_message_age_seconds",
        "How long the oldest Celery message waiting has waited, by queue (0: none waits).",
        labels=["queue"],
    )
    sockets = GaugeMetricFamily(
        "dispatch_websocket_groups_members", "Live socket memberships (dispatchers, technicians)."
    )
    try:
        client = redis_client()
        for queue in QUEUES:
            queues.add_metric([queue], client.llen(queue))
            # kombu pushes on the left and workers take from the right: the oldest is last.
            waited = _waited(client.lindex(queue, -1), time.time())
            if waited is not None:
                ages.add_metric([queue], waited)
        members = sum(client.zcard(key) for key in client.scan_iter("dispatch:ws:group:*"))
        sockets.add_metric([], members)
    except UNREACHABLE:
        return  # Redis down: readiness says so; the metrics it holds are simply absent
    yield queues
    yield ages
    yield sockets


def _waited(message: bytes | None, now: float) -> float | None:
    """How long the message has waited: 0 for no message, None when it does not say when it
    was sent (sent before the stamp existed, or not by this project)."""
    if message is None:
        return 0.0
    try:
        return max(0.0, now - float(json.loads(message)["headers"][PUBLISHED_AT]))
    except (ValueError, KeyError, TypeError):
        return None


class ProcessesCollector:
    """The values every process of every service wrote: the files of each directory beside
    this service's own (web, ws, worker), added up as prometheus_client's collector does."""

    def __init__(self, folder: str):
        self.root = Path(folder).parent

    def collect(self):
        files = sorted(str(path) for kind in KINDS for path in self.root.glob(f"*/{kind}_*.db"))
        return MultiProcessCollector.merge(files, accumulate=True)


class ThisProcessCollector:
    """Without PROMETHEUS_MULTIPROC_DIR: the metrics this process measured (and its own)."""

    def collect(self):
        return REGISTRY.collect()


def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        raise Http404  # off, or not Prometheus: nothing to see here
    registry = CollectorRegistry()
    registry.register(DispatchCollector())
    folder = settings.PROMETHEUS_MULTIPROC_DIR
    registry.register(ProcessesCollector(folder) if folder else ThisProcessCollector())
    with every_tenant():  # the platform's figures, all clients'
        body = generate_latest(registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
