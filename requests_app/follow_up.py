"""After a visit that could not complete: the request's next step, so none is left without one."""

from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import User
from core import followups
from notifications.services import notification_enqueue
from requests_app.models import ServiceRequest
from requests_app.services import customer_language, customer_message, request_transition
from requests_app.states import Status
from requests_app.tracking import tracking_url
from technicians.models import Visit

# After a visit that could not complete: what the request needs next, by the reason given.
CUSTOMER_SIDE = frozenset({Visit.Reason.CUSTOMER_ABSENT, Visit.Reason.NO_ACCESS})


def request_follow_up(
    *, request: ServiceRequest, visit: Visit, reason: str, actor: User | None = None
) -> None:
    """A request whose `visit` could not complete is never left without a next step:

    - the customer refused the work: it stays "not completed" (an unproductive visit);
    - an emergency the customer was not there for goes to dispatchers to call them first;
    - any other emergency goes back to the engine for another technician, now;
    - a planned visit waits for a new window, and the customer gets the link to choose one.
    """
    label = Visit.Reason(reason).label
    if reason == Visit.Reason.CUSTOMER_REFUSED:
        return
    if request.kind == ServiceRequest.Kind.EMERGENCY:
        if reason in CUSTOMER_SIDE:
            note = _("Call the customer before sending someone again: %(reason)s")
            request_transition(
                request=request,
                to=Status.ESCALATED,
                actor=actor,
                reason=note % {"reason": label},
            )
            return
        note = _("Another visit is needed: %(reason)s") % {"reason": label}
        request_transition(request=request, to=Status.NEW, actor=actor, reason=note)
        followups.enqueue_on_commit(followups.ASSIGN_REQUEST, request_id=request.pk)
        return
    note = _("Waiting for a new window: %(reason)s") % {"reason": label}
    request_transition(request=request, to=Status.RESCHEDULED, actor=actor, reason=note)
    _ask_for_new_window(request, visit)


def _ask_for_new_window(request: ServiceRequest, visit: Visit) -> None:
    tenant = request.tenant
    with override(customer_language(request, tenant)):
        body = _(
            "%(tenant)s: we could not finish the job %(number)s today. Choose a new time for "
            "the next visit: %(link)s"
        ) % {
            "tenant": tenant.name,
            "number": request.number,
            "link": tracking_url(request) + "?change=1",
        }
    notification_enqueue(
        **customer_message(
            request,
            body=body,
            kind="follow_up_window",
            dedupe_key=f"follow-up:{visit.pk}",
        )
    )
