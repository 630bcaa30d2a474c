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


S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.NEW: frozenset({S.ASSIGNED, S.CANCELLED, S.ESCALATED, S.RESCHEDULED}),
    S.ESCALATED: frozenset({S.ASSIGNED, S.CANCELLED, S.RESCHEDULED}),
    S.RESCHEDULED: frozenset({S.ASSIGNED, S.CANCELLED, S.ESCALATED}),
    # Unassigning sends a request back to NEW so the engine picks it up again.
    S.ASSIGNED: frozenset({S.ACCEPTED, S.NEW, S.CANCELLED, S.ESCALATED, S.RESCHEDULED}),
    # Back to ASSIGNED when a dispatcher gives an accepted job to another technician.
    S.ACCEPTED: frozenset({S.EN_ROUTE, S.ASSIGNED, S.NEW, S.CANCELLED, S.ESCALATED, S.RESCHEDULED}),
    S.EN_ROUTE: frozenset({S.ON_SITE, S.NEW, S.CANCELLED, S.ESCALATED, S.RESCHEDULED}),
    S.ON_SITE: frozenset({S.COMPLETED, S.NOT_COMPLETED}),
    # A visit that could not complete needs another one: the request is re-planned.
    S.NOT_COMPLETED: frozenset({S.RESCHEDULED, S.NEW, S.ESCALATED, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Requests waiting for the assignment engine.
UNASSIGNED = frozenset({S.NEW, S.ESCALATED, S.RESCHEDULED})
# Requests with an active visit.
IN_PROGRESS = frozenset({S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE})
CLOSED = frozenset({S.COMPLETED, S.CANCELLED})
OPEN = frozenset(Status) - CLOSED


def check_transition(current: str, target: str) -> None:
    if Status(target) not in TRANSITIONS[Status(current)]:
        raise IllegalTransition(
            gettext("A request cannot go from “%(current)s” to “%(target)s”.")
            % {"current": Status(current).label, "target": Status(target).label}
        )
