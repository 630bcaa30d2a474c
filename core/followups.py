"""Follow-up work, asked for by task name and sent after commit.

A service that needs more work done after its change (assign an emergency after it is taken in,
re-plan a day after a booking, deliver the messages it queued) asks here by the task's name
instead of importing the task: tasks build on services, so services never import them. The
names are listed below; a test holds each to a registered task.

Redis is a doorbell: when it cannot be rung, the committed change stands and the reconciler or
the periodic re-plan finds the work (a committed request is never turned into an error).
"""

import logging
from datetime import date

from celery import Task
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from config.celery import app
from core.redis_client import UNREACHABLE, redis_client

log = logging.getLogger(__name__)

ASSIGN_REQUEST = "dispatch.tasks.assign_request"
PLAN_DAY = "dispatch.tasks.plan_tenant_day"
DELIVER_NOTIFICATIONS = "notifications.tasks.deliver_notifications"
SURVEY_INVITE = "surveys.tasks.invite_after_visit"
NOTIFY_ASSIGNED = "fieldwork.tasks.notify_emergency_assigned"
NOTIFY_ON_MY_WAY = "fieldwork.tasks.notify_on_my_way"
SEND_SERVICE_REPORT = "fieldwork.tasks.send_service_report"

_UNREACHABLE = (BrokerError, *UNREACHABLE)


def enqueue_on_commit(task_name: str, **kwargs) -> None:
    """Run the task with these keyword arguments once the current transaction commits."""
    transaction.on_commit(lambda: _send(task_name, kwargs))


def enqueue_debounced(task_name: str, *, key: str, delay: int, **kwargs) -> None:
    """After commit, run the task `delay` seconds from now, once for all the asks with the same
    `key` within those seconds."""
    transaction.on_commit(lambda: _send_debounced(task_name, key, delay, kwargs))


def replan_soon(*, tenant_id: int, day: date) -> None:
    """A re-plan of the tenant's day soon: many changes within PLAN_DEBOUNCE_SECONDS make one.
    If Redis forgets, the periodic plan of every day still comes."""
    enqueue_debounced(
        PLAN_DAY,
        key=f"dispatch:replan:{tenant_id}:{day.isoformat()}",
        delay=settings.PLAN_DEBOUNCE_SECONDS,
        tenant_id=tenant_id,
        day=day.isoformat(),
    )


def _task(task_name: str) -> Task:
    """The registered task. Outside a worker, the first ask imports every app's tasks module
    (Celery's autodiscovery), as a worker does at start."""
    if task_name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[task_name]


def _send(task_name: str, kwargs: dict) -> None:
    try:
        _task(task_name).delay(**kwargs)
    except _UNREACHABLE:
        log.warning("could not enqueue %s(%s); the reconciler will", task_name, kwargs)


def _send_debounced(task_name: str, key: str, delay: int, kwargs: dict) -> None:
    try:
        if redis_client().set(key, 1, nx=True, ex=delay):
            _task(task_name).apply_async(kwargs=kwargs, countdown=delay)
    except _UNREACHABLE:
        log.warning("could not schedule %s(%s); beat will", task_name, kwargs)
