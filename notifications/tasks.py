from dispatch.celery import task
from notifications import services


@task(queue="notify", time_limit=30)
def deliver_notification(*, notification_id: int) -> str:
    return services.notification_deliver(notification_id=notification_id)


@task(queue="notify", time_limit=120)
def retry_due_notifications() -> int:
    """Beat: deliver what failed before and whose backoff has passed."""
    ids = services.due_notification_ids()
    for notification_id in ids:
        services.notification_deliver(notification_id=notification_id)
    return len(ids)
