"""The Celery application and the one decorator every project task is declared with.

Redis is only a doorbell: tasks are acknowledged after they finish (`acks_late`) and re-queued if
the worker dies (`reject_on_worker_lost`), and the reconciler re-drives anything whose message was
lost. Tasks therefore must be idempotent: they take ids, lock their row and return early when
the work is already done.
"""

import os
from collections.abc import Callable
from functools import wraps

from celery import Celery, signals
from django.db import close_old_connections

# Importing it connects the task metrics (latency, outcome, the publish time of each message).
from core.observability import metrics_dir_reset, task_started
from core.tenancy import app_role_enable, every_tenant

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# DjangoTask adds delay_on_commit: enqueue only once the change that needs the task is committed.
app = Celery("dispatch", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _connections_as_for_a_request(sender=None, task_id=None, **_) -> None:
    """Around each task, drop a connection that is too old or broken, as Django does around a
    request (the fix-up no longer closes every one: see CELERY_DB_REUSE_MAX). Not for a task
    run eagerly inside the caller's transaction."""
    if sender is None or not getattr(sender.request, "is_eager", False):
        close_old_connections()
        task_started(task_id)  # every log line of the task says which one


@signals.worker_init.connect
def _worker_starts(**_) -> None:
    """The main process, before its pool starts: the children's metrics start from zero, and
    the children (forked after this) connect as the role row-level security binds."""
    metrics_dir_reset()
    app_role_enable()


QUEUES = ("assign", "plan", "notify", "default")
_ROUTES: dict[str, dict] = {}


def _route(name, args, kwargs, options, task=None, **extra):
    return _ROUTES.get(name)


app.conf.task_routes = (_route,)


def task(*, queue: str = "default", time_limit: int = 60, **options) -> Callable:
    """Declare a project task with safe delivery semantics. A task works for every tenant: it
    acts on the ids a committed transaction gave it, and the beat tasks sweep all tenants."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")

    def decorator(func: Callable) -> Callable:
        name = f"{func.__module__}.{func.__name__}"
        _ROUTES[name] = {"queue": queue}

        @wraps(func)
        def in_every_tenant(*args, **kwargs):
            with every_tenant():
                return func(*args, **kwargs)

        return app.task(
            name=name,
            acks_late=True,
            reject_on_worker_lost=True,
            time_limit=time_limit,
            soft_time_limit=max(1, time_limit - 5),
            **options,
        )(in_every_tenant)

    return decorator
