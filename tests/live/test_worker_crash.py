"""Kill a real Celery worker (SIGKILL, mid-burst): nothing is left silently unassigned."""

import os
import signal
import time

import pytest
from django.db import transaction

from dispatch.tasks import reconcile_unassigned
from requests_app.booking import request_create
from requests_app.models import ServiceRequest
from technicians.models import Visit
from tests.factories import CustomerFactory, TechnicianFactory
from tests.live import stack

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
BURST = 30


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_worker_killed_during_a_burst_leaves_every_request_assigned_or_escalated(
    tenant, settings
):
    for i in range(5):
        TechnicianFactory(tenant=tenant, home_lat=43.2 + i * 0.02)
    customers = CustomerFactory.create_batch(BURST, tenant=tenant)
    worker = stack.start_worker(stack.environment(), concurrency=2, hostname="doomed")
    try:
        for customer in customers:
            with transaction.atomic():
                request_create(
                    tenant=tenant,
                    customer=customer,
                    kind="emergency",
                    category="outage",
                    channel="api",
                    estimated_minutes=20,
                )
        assert wait_until(lambda: Visit.objects.exists(), timeout=30), "worker never started"
    finally:
        # The whole process group: the main process and its prefork children, mid-task.
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        stack.close_other_sessions()

    waiting = ServiceRequest.objects.filter(status__in=["new", "rescheduled"]).count()
    settings.ASSIGN_OVERDUE_SECONDS = 0  # everything still waiting is overdue now
    reconcile_unassigned()

    statuses = set(ServiceRequest.objects.values_list("status", flat=True))
    assert statuses <= {"assigned", "escalated"}, statuses
    assert (
        Visit.objects.filter(status__in=Visit.ACTIVE).count()
        == ServiceRequest.objects.filter(status="assigned").count()
    )
    print(f"{waiting} of {BURST} requests were still waiting when the worker died")
