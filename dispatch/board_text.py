"""What the board's scripts say, in the reader's language.

Live events and API answers carry codes; the board names them with these. Counted words come in
every plural form of the language (picked in the browser with Intl.PluralRules)."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from requests_app.models import ServiceRequest
from technicians.models import Visit


def _counted(words) -> dict[str, str]:
    """`words(n)` is an ngettext call written out (so makemessages finds it), asked once per CLDR
    form the three languages use: 1 → one, 2 → few, 5 → other."""
    return {form: words(n) for form, n in (("one", 1), ("few", 2), ("other", 5))}


# Why the engine left a technician out of an emergency (dispatch.engine.emergency).
def _exclusions() -> dict[str, str]:
    return {
        "skills": _("lacks a required skill"),
        "could_not_complete_before": _("could not complete this job before"),
        "off_shift": _("off shift"),
        "absent": _("absent"),
        "pinned_visit_in_the_way": _("a pinned visit is in the way"),
        "shift_ends": _("the shift ends before the job would"),
    }


def board_text() -> dict:
    return {
        "live": _("live"),
        "offline": _("reconnecting…"),
        "planned": _("Planned"),
        "emergency": _("Emergency"),
        "due": _("due"),
        "unassigned": _("unassigned"),
        "at_risk": _("at risk"),
        "late": _("late"),
        "held": _("held"),
        "escalated": pgettext("request", "Escalated"),
        "outage": _("Outage"),
        "reported_again": _("reported again"),
        "customers": _counted(lambda n: ngettext("%(n)s customer", "%(n)s customers", n)),
        "waiting": _counted(lambda n: ngettext("%(n)s waiting", "%(n)s waiting", n)),
        "page": _("%(first)s–%(last)s of %(count)s"),
        "crew_page": _("technicians %(first)s–%(last)s of %(count)s"),
        "none_match": _("No open request matches these filters."),
        "none_found": _("No customer found: try the full phone number or another name."),
        "more_found": _("The first 20 shown: type more to narrow down."),
        "alerts": {
            "escalated": _counted(lambda n: ngettext("%(n)s escalated", "%(n)s escalated", n)),
            "late": _counted(
                lambda n: ngettext("%(n)s technician late", "%(n)s technicians late", n)
            ),
            "at_risk": _counted(lambda n: ngettext("%(n)s at risk", "%(n)s at risk", n)),
            "unassigned": _counted(lambda n: ngettext("%(n)s unassigned", "%(n)s unassigned", n)),
            "held": _counted(lambda n: ngettext("%(n)s held", "%(n)s held", n)),
        },
        "all_clear": _("Nothing needs you now."),
        "lunch": _("lunch %(minutes)s min"),
        "lunch_placed": _("lunch"),
        "travel": _("travel"),
        "window": _("agreed window"),
        "shift": _("shift"),
        "absence": _("absent"),
        "pinned": _("pinned"),
        "no_position": _("position unknown"),
        "seen_at": _("seen %(time)s"),
        "exclusions": _exclusions(),
        "visit_status": {value: str(label) for value, label in Visit.Status.choices},
        "drawer": {
            "customer": _("Customer"),
            "phone": _("Call"),
            "address": _("Address"),
            "window": _("Agreed window"),
            "due": _("Response due"),
            "skills": _("Skills needed"),
            "description": _("Description"),
            "history": _("History"),
            "visits": _("Visits"),
            "decision": _("The engine's decision"),
            "candidates": _("Ranked candidates"),
            "excluded": _("Why not the others"),
            "no_decision": _("The engine has not decided on this request yet."),
            "eta": _("on site in %(minutes)s min"),
            "travel": _("travel %(minutes)s min"),
            "pushes": _counted(lambda n: ngettext("moves %(n)s visit", "moves %(n)s visits", n)),
            "breaks": _counted(
                lambda n: ngettext("breaks %(n)s window", "breaks %(n)s windows", n)
            ),
            "more": _("and %(n)s more"),
            "system": _("the system"),
            "chosen": _("chosen"),
            "on_map": _("show on the map"),
        },
        "actions": {
            "assign": _("Assign"),
            "technician": _("Technician"),
            "start": _("Arrival"),
            "pin": _("Pin"),
            "unpin": _("Unpin"),
            "unassign": _("Unassign and hold"),
            "release": _("Release to the engine"),
            "escalate": _("Escalate"),
            "offer_window": _("Offer the customer a new window"),
            "deescalate": _("De-escalate"),
            "reason": _("Reason"),
            "close": _("Close"),
        },
        "rules": {
            "title": _("This change breaks rules"),
            "confirm": _("Do it anyway"),
            "cancel": _("Cancel"),
        },
        "done": _("Done."),
        "stale": _("Someone changed this request meanwhile: it is shown as it is now."),
        "failed": _("That did not work: %(reason)s"),
        "presence_viewing": _("%(name)s is looking"),
        "presence_dragging": _("%(name)s is moving it"),
        "status": {value: str(label) for value, label in ServiceRequest.Status.choices},
        "category": {value: str(label) for value, label in ServiceRequest.Category.choices},
    }
