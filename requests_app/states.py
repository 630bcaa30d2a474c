"""The service-request state machine: statuses and the only transitions allowed between them."""

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.errors import IllegalTransition


class Status(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    ACCEPTED = "accepted", _("Accepted")
    EN_ROUTE = "en_route", _("En route")
    ON_SITE = "on_site", _("On site")
    COMPLETED = "completed", _("Completed")
    NOT_COMPLETED = "not_completed", _("Not completed")
    CANCELLED = "cancelled", _("Cancelled")
    ESCALATED = "escalated", _("Escalated")
    RESCHEDULED = "rescheduled", _("Rescheduled")


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset(
        {Status.ASSIGNED, Status.CANCELLED, Status.ESCALATED, Status.RESCHEDULED}
    ),
    # Back to NEW when a dispatcher de-escalates it: the engine plans it again.
    Status.ESCALATED: frozenset(
        {Status.ASSIGNED, Status.NEW, Status.CANCELLED, Status.RESCHEDULED}
    ),
    Status.RESCHEDULED: frozenset({Status.ASSIGNED, Status.CANCELLED, Status.ESCALATED}),
    # Unassigning sends a request back to NEW so the engine picks it up again.
    Status.ASSIGNED: frozenset(
        {Status.ACCEPTED, Status.NEW, Status.CANCELLED, Status.ESCALATED, Status.RESCHEDULED}
    ),
    # Back to ASSIGNED when a dispatcher gives an accepted job to another technician.
    Status.ACCEPTED: frozenset(
        {
            Status.EN_ROUTE,
            Status.ASSIGNED,
            Status.NEW,
            Status.CANCELLED,
            Status.ESCALATED,
            Status.RESCHEDULED,
        }
    ),
    Status.EN_ROUTE: frozenset(
        {Status.ON_SITE, Status.NEW, Status.CANCELLED, Status.ESCALATED, Status.RESCHEDULED}
    ),
    Status.ON_SITE: frozenset({Status.COMPLETED, Status.NOT_COMPLETED}),
    # A visit that could not complete needs another one: the request is re-planned.
    Status.NOT_COMPLETED: frozenset(
        {Status.RESCHEDULED, Status.NEW, Status.ESCALATED, Status.CANCELLED}
    ),
    # Reopened when the customer says in a survey the problem is not solved: planned again.
    Status.COMPLETED: frozenset({Status.NEW}),
    Status.CANCELLED: frozenset(),
}

# Requests waiting for the assignment engine.
UNASSIGNED = frozenset({Status.NEW, Status.ESCALATED, Status.RESCHEDULED})
# Planned requests the planner may route. A rescheduled one waits for the window its customer or
# a dispatcher chooses (booking it gives it a visit): the window it still holds is the one a
# visit could not complete in, not a time to fill again (the demo sent the same technician back
# into it within a minute).
PLANNABLE = frozenset({Status.NEW, Status.ESCALATED})
# Requests with an active visit.
IN_PROGRESS = frozenset({Status.ASSIGNED, Status.ACCEPTED, Status.EN_ROUTE, Status.ON_SITE})
CLOSED = frozenset({Status.COMPLETED, Status.CANCELLED})
OPEN = frozenset(Status) - CLOSED


def check_transition(current: str, target: str) -> None:
    if Status(target) not in TRANSITIONS[Status(current)]:
        raise IllegalTransition(
            gettext("A request cannot go from “%(current)s” to “%(target)s”.")
            % {"current": Status(current).label, "target": Status(target).label}
        )
