from config.celery import task
from core import health


@task(queue="default", time_limit=10)
def beat_heartbeat() -> None:
    """Beat: say that beat runs (and a worker takes its tasks), for readiness."""
    health.beat_heartbeat_record()
