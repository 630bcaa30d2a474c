"""Celery tasks: thin interfaces over the engine. Each is safe to run twice."""

import logging
from datetime import date

from django.db import IntegrityError, OperationalError
from django.utils import timezone

from accounts.models import Tenant
from config.celery import task
from dispatch.engine import emergency, national, planner, reconcile

log = logging.getLogger(__name__)


@task(
    queue="assign",
    time_limit=30,
    autoretry_for=(IntegrityError, OperationalError),
    retry_backoff=1,
    retry_backoff_max=10,
    max_retries=5,
)
def assign_request(*, request_id: int) -> str:
    # A racing worker can make the commit fail on the no-overlap constraint (or a deadlock
    # victim be chosen): the whole transaction rolled back, so simply try again.
    return emergency.request_assign(request_id=request_id)


# On the emergencies' queue: workers take it first, so a storm cannot hold the safety net back.
@task(queue="assign", time_limit=120)
def reconcile_unassigned() -> dict:
    """Re-drive emergencies whose doorbell was lost or whose worker died. Rows another worker
    holds are skipped, not waited for."""
    retry, escalate = reconcile.overdue_request_ids(now=timezone.now())
    outcomes: dict[str, int] = {}
    for request_id in escalate:
        outcome = _one_request(reconcile.request_escalate_stuck, request_id=request_id)
        if outcome != "skipped":
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    for request_id in retry:
        outcome = _one_request(emergency.request_assign, request_id=request_id, skip_locked=True)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def _one_request(step, *, request_id: int, **options) -> str:
    """One request's step of a reconciler round. A request that breaks it must not hold back
    the rest of the round: its attempt is counted in the row, so it is escalated after N."""
    try:
        return step(request_id=request_id, **options)
    except (IntegrityError, OperationalError):
        return "failed"  # a lost race or a database restart: retried next round
    except Exception:
        log.exception("reconciling request %s failed", request_id)  # bad data: a bug to see
        return "failed"


# A national day waits for its parts (dispatch/engine/national.py): longer than one solve.
@task(queue="plan", time_limit=1800)
def plan_tenant_day(*, tenant_id: int, day: str) -> dict | None:
    result = planner.plan_day(tenant_id=tenant_id, day=date.fromisoformat(day))
    return None if result is None else vars(result)


@task(queue="plan", time_limit=60)
def plan_all() -> int:
    """Beat: the rolling re-plan of every tenant's days."""
    count = 0
    for tenant in Tenant.objects.all():
        for day in planner.days_to_plan(tenant, timezone.now()):
            plan_tenant_day.delay(tenant_id=tenant.pk, day=day.isoformat())
            count += 1
    return count


# Returns its routes through the result backend (the only task that does): the caller of a
# partitioned day reads every part's plan back. Plain data in and out, no database.
@task(queue="plan", time_limit=900, ignore_result=False)
def plan_part(*, part: dict, time_limit: float, travel: dict, seed: int = 0) -> dict:
    return national.part_solve(part=part, time_limit=time_limit, travel=travel, seed=seed)
