"""Survey work in the background: ids in, idempotent (a second run finds the work done)."""

from config.celery import task
from surveys import services


@task(queue="notify", time_limit=60)
def invite_after_visit(*, visit_id: int) -> str:
    """After a visit completes: the invitation, by the tenant's rules (once per visit)."""
    invitation = services.invitation_after_visit(visit_id=visit_id)
    return invitation.status if invitation is not None else "no_visit"


@task(queue="notify", time_limit=120)
def send_due_invitations() -> int:
    """Beat: send the invitations that waited for the end of quiet hours."""
    sent = 0
    for invitation_id in services.invitations_due():
        sent += services.invitation_send_due(invitation_id=invitation_id) == "sent"
    return sent
