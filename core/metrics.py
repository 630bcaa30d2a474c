"""`/metrics` for Prometheus, read from PostgreSQL and Redis at scrape time.

The numbers that say whether dispatching keeps up: work waiting by tenant and kind, the age of
the oldest emergency waiting and of the oldest message not sent, escalations open, assignments
in the last hour by outcome, Celery queue lengths, live socket clients. Read from the truth at
each scrape, they are the same from every process (no per-process counters to add up). Off
unless METRICS_TOKEN is set; Prometheus sends it as a bearer token.
"""

import hmac
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from config.celery import QUEUES
from core.redis_client import UNREACHABLE, redis_client
from core.tenancy import every_tenant
from dispatch.models import Decision
from notifications.models import Notification
from requests_app.models import ServiceRequest
from requests_app.selectors import oldest_waiting_emergency_at

WAITING = ("new", "rescheduled", "escalated")


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
    sockets = GaugeMetricFamily(
        "dispatch_websocket_groups_members", "Live socket memberships (dispatchers, technicians)."
    )
    try:
        client = redis_client()
        for queue in QUEUES:
            queues.add_metric([queue], client.llen(queue))
        members = sum(client.zcard(key) for key in client.scan_iter("dispatch:ws:group:*"))
        sockets.add_metric([], members)
    except UNREACHABLE:
        return  # Redis down: readiness says so; the metrics it holds are simply absent
    yield queues
    yield sockets


def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        raise Http404  # off, or not Prometheus: nothing to see here
    registry = CollectorRegistry()
    registry.register(DispatchCollector())
    with every_tenant():  # the platform's figures, all clients'
        body = generate_latest(registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
