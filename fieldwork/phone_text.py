"""What the technician's phone says, in the technician's language: the scripts get these words
from the page (they work offline, so they cannot ask for them later)."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from technicians.models import Visit


def _counted(singular: str, plural: str) -> dict[str, str]:
    samples = (("one", 1), ("few", 2), ("other", 5))
    return {form: ngettext(singular, plural, n) for form, n in samples}


def phone_text() -> dict:
    return {
        "steps": {
            Visit.Status.ACCEPTED: _("Accept"),
            Visit.Status.EN_ROUTE: _("On my way"),
            Visit.Status.ON_SITE: _("Arrived"),
            Visit.Status.COMPLETED: _("Done"),
            Visit.Status.NOT_COMPLETED: _("Could not complete"),
        },
        "statuses": {status: str(label) for status, label in Visit.Status.choices},
        "offline": _("Offline: your changes are kept on the phone"),
        "waiting": _counted("%(n)s change waiting to be sent", "%(n)s changes waiting to be sent"),
        "synced": _("All changes sent"),
        "sending": _("Sending…"),
        "not_applied": _("Not applied"),
        "dismiss": _("OK"),
        "no_jobs": _("No jobs assigned for today yet."),
        "agreed_window": _("Agreed window"),
        "confirmed": _("customer confirmed"),
        "navigate": _("Navigate"),
        "map": _("Map"),
        "call": _("Call"),
        "skills": _("Skills"),
        "notes": _("Notes"),
        "earlier": _("Earlier visits here"),
        "repeat": _("Repeat visit"),
        "checklist": _("Checklist"),
        "resolution": _("Resolution"),
        "choose": _("Choose…"),
        "parts": _("Parts used"),
        "quantity": _("Quantity"),
        "add_part": _("Add"),
        "photos": _("Photos"),
        "take_photo": _("Take a photo"),
        "photo_added": _("Photo added"),
        "signature": _("Customer's signature"),
        "signer": _("Customer's name"),
        "clear": _("Clear"),
        "note": _("Note"),
        "add_note": _("Add note"),
        "why_not": _("Why not?"),
        "evidence": _("Evidence"),
        "log_call": _("I called the customer"),
        "call_logged": _("Call logged"),
        "finish": _("Finish the job"),
        "back": _("Back"),
        "details": _("Details"),
        "confirm_title": _("Are you sure?"),
        "confirm_why": _("Say why (kept in the history)"),
        "confirm_do": _("Do it anyway"),
        "cancel": _("Cancel"),
        "out_of_order": _("This skips a step."),
        "before_shift": _("Your shift has not started yet."),
        "lunch": _("Lunch break"),
        "before_window": _("The agreed window has not started yet."),
        "share_location": _("Share my position while on the way (only then)"),
        "sharing": _("Sharing your position with the customer until you arrive"),
        "eta": _("ETA"),
        "minutes": _("min"),
        "near": _("You seem to be there: tap “Arrived”."),
        "resolution_needed": _("Choose how the job was resolved."),
        "reason_needed": _("Choose why the job could not be completed."),
        "saved": _("Saved on the phone"),
        "sent": _("Sent"),
    }
