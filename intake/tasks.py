"""Celery tasks of intake: thin interfaces over its services, safe to run twice."""

from config.celery import task
from intake import reminders


@task(queue="default", time_limit=120)
def send_visit_reminders() -> int:
    """Beat: remind customers of tomorrow's visits (each request and window once)."""
    return reminders.visit_reminders_send()
