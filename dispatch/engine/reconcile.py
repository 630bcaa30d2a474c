"""Find work whose doorbell was lost (Redis dropped the message, a worker died) and re-drive it.
PostgreSQL is the truth: anything still waiting there past its time is picked up again."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from core.observability import escalation_counted
from requests_app.models import ServiceRequest
from requests_app.services import request_transition
from requests_app.states import UNASSIGNED, Status


def overdue_request_ids(*, now: datetime, limit: int = 200) -> tuple[list[int], list[int]]:
    """Emergencies waiting longer than they should: (to retry, to escalate)."""
    cutoff = now - timedelta(seconds=settings.ASSIGN_OVERDUE_SECONDS)
    waiting = (
        ServiceRequest.objects.filter(
            kind=ServiceRequest.Kind.EMERGENCY,
            status__in=UNASSIGNED,
            held=False,  # a dispatcher took it back: theirs until they release it
            created_at__lt=cutoff,
        )
        .order_by("priority", "created_at")
        .values_list("pk", "assignment_attempts", "status")[:limit]
    )
    retry, escalate = [], []
    for pk, attempts, status in waiting:
        if attempts >= settings.ASSIGN_MAX_ATTEMPTS and status != Status.ESCALATED:
            escalate.append(pk)
        else:
            retry.append(pk)
    return retry, escalate


def request_escalate_stuck(*, request_id: int) -> str:
    """Give up automatic assignment after too many failed attempts: dispatchers take over.
    "skipped" when the request is no longer waiting (or another worker holds it)."""
    with transaction.atomic():
        request = (
            ServiceRequest.objects.select_for_update(skip_locked=True)
            .filter(pk=request_id, status__in=(Status.NEW, Status.RESCHEDULED))
            .first()
        )
        if request is None:
            return "skipped"
        request_transition(
            request=request,
            to=Status.ESCALATED,
            reason=_("Automatic assignment failed %(n)s times.")
            % {"n": request.assignment_attempts},
        )
        escalation_counted(reason="attempts_exhausted")
        return "escalated"
