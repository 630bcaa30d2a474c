from config.celery import task
from notifications import services


@task(queue="notify", time_limit=60)
def deliver_notifications(*, notification_ids: list[int]) -> list[str]:
    """Several messages of one change in one task (each still under its own row lock)."""
    return [services.notification_deliver(notification_id=pk) for pk in notification_ids]


@task(queue="notify", time_limit=120)
def retry_due_notifications() -> int:
    """Beat: deliver what failed before and whose backoff has passed."""
    ids = services.due_notification_ids()
    for notification_id in ids:
        services.notification_deliver(notification_id=notification_id)
    return len(ids)
