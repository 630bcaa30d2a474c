from config.celery import task
from core import health, retention


@task(queue="default", time_limit=10)
def beat_heartbeat() -> None:
    """Beat: say that beat runs (and a worker takes its tasks), for readiness."""
    health.beat_heartbeat_record()


@task(queue="default", time_limit=600)
def purge_expired() -> dict[str, int]:
    """Beat, daily: delete what has outlived its retention (RETENTION_DAYS)."""
    return retention.purge_expired()
