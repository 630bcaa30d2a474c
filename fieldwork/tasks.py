"""Customer messages about the technician coming and the job done: rung after commit by the
visit services (`core.followups`), idempotent through the outbox's keys."""

from config.celery import task
from fieldwork import services


@task(queue="notify", time_limit=30)
def notify_on_my_way(*, visit_id: int) -> bool:
    return services.customer_told_on_my_way(visit_id=visit_id) is not None


@task(queue="notify", time_limit=30)
def notify_emergency_assigned(*, visit_id: int) -> bool:
    return services.customer_told_assigned(visit_id=visit_id) is not None


@task(queue="notify", time_limit=30)
def send_service_report(*, visit_id: int) -> bool:
    return services.customer_sent_report(visit_id=visit_id) is not None
