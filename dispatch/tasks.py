"""Celery tasks: thin interfaces over the services. Each is safe to run twice."""

from django.utils import timezone

from dispatch import assignment
from dispatch.celery import task


@task(queue="assign", time_limit=30)
def assign_request(*, request_id: int) -> str:
    return assignment.request_assign(request_id=request_id)


@task(queue="default", time_limit=120)
def reconcile_unassigned() -> dict:
    """Re-drive emergencies whose doorbell was lost or whose worker died (Redis may drop them;
    PostgreSQL still knows they wait). Rows another worker holds are skipped, not waited for."""
    retry, escalate = assignment.overdue_request_ids(now=timezone.now())
    outcomes: dict[str, int] = {}
    for request_id in escalate:
        if assignment.request_escalate_stuck(request_id=request_id):
            outcomes["escalated"] = outcomes.get("escalated", 0) + 1
    for request_id in retry:
        outcome = assignment.request_assign(request_id=request_id, skip_locked=True)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
