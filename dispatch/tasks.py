"""Celery tasks: thin interfaces over the engine. Each is safe to run twice."""

from django.db import IntegrityError, OperationalError
from django.utils import timezone

from dispatch.celery import task
from dispatch.engine import emergency, reconcile


@task(
    queue="assign", time_limit=30, autoretry_for=(IntegrityError, OperationalError),
    retry_backoff=1, retry_backoff_max=10, max_retries=5,
)
def assign_request(*, request_id: int) -> str:
    # A racing worker can make the commit fail on the no-overlap constraint (or a deadlock
    # victim be chosen): the whole transaction rolled back, so simply try again.
    return emergency.request_assign(request_id=request_id)


@task(queue="default", time_limit=120)
def reconcile_unassigned() -> dict:
    """Re-drive emergencies whose doorbell was lost or whose worker died. Rows another worker
    holds are skipped, not waited for."""
    retry, escalate = reconcile.overdue_request_ids(now=timezone.now())
    outcomes: dict[str, int] = {}
    for request_id in escalate:
        if reconcile.request_escalate_stuck(request_id=request_id):
            outcomes["escalated"] = outcomes.get("escalated", 0) + 1
    for request_id in retry:
        try:
            outcome = emergency.request_assign(request_id=request_id, skip_locked=True)
        except (IntegrityError, OperationalError):
            outcome = "failed"  # counted in the row; retried next round, escalated after N
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
