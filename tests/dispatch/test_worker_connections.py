"""A Celery worker keeps its PostgreSQL connection from task to task, as a web process does from
request to request; one that broke is replaced before the next task."""

import pytest
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection

from config.celery import app
from dispatch.tasks import assign_request

pytestmark = pytest.mark.django_db(transaction=True)  # tasks run outside any transaction


def run_task_hooks():
    """What the worker does around a task: Celery's Django fix-up, then the project's hooks."""
    fixup = DjangoWorkerFixup(app)
    for hook in (fixup.on_task_prerun, fixup.on_task_postrun):
        hook(sender=assign_request)
    from celery import signals

    signals.task_prerun.send(sender=assign_request, task_id="t", task=assign_request)
    signals.task_postrun.send(sender=assign_request, task_id="t", task=assign_request)


@pytest.fixture(autouse=True)
def persistent_connections():
    """As configured outside tests (tests close connections after each use: conftest)."""
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = 60
    yield
    connection.settings_dict["CONN_MAX_AGE"] = 0
    connection.close()


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_worker_keeps_its_database_connection_between_tasks():
    first = backend_pid()
    run_task_hooks()
    assert backend_pid() == first


def test_a_broken_connection_is_replaced_before_the_next_task():
    first = backend_pid()
    connection.errors_occurred = True  # as after a failed query
    connection.connection.close()  # the server went away
    run_task_hooks()
    assert backend_pid() != first
