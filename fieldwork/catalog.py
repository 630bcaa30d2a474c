"""What a technician ticks and chooses per category of job: the checklist on site and the
resolution codes when done. Kept in code (the same for every tenant) until a tenant needs its
own; the codes are stored, the labels are shown in the reader's language."""

from django.utils.translation import gettext_lazy as _

from requests_app.models import ServiceRequest

Category = ServiceRequest.Category

CHECKLISTS: dict[str, list[tuple[str, str]]] = {
    Category.INSTALLATION: [
        ("route_agreed", _("Cable route agreed with the customer")),
        ("signal_measured", _("Signal level measured at the outlet")),
        ("device_configured", _("Router configured and online")),
        ("customer_shown", _("Customer shown how to use the service")),
    ],
    Category.RELOCATION: [
        ("old_point_removed", _("Old connection point removed")),
        ("new_point_installed", _("New connection point installed")),
        ("service_tested", _("Service tested at the new place")),
    ],
    Category.REPAIR: [
        ("fault_found", _("Fault located")),
        ("fault_fixed", _("Fault fixed")),
        ("service_tested", _("Service tested with the customer")),
    ],
    Category.OUTAGE: [
        ("line_checked", _("Line checked up to the distribution box")),
        ("service_restored", _("Service restored")),
        ("dispatcher_told", _("Dispatcher told about the cause")),
    ],
    Category.MAINTENANCE: [
        ("equipment_checked", _("Equipment checked")),
        ("connections_cleaned", _("Connections cleaned and tightened")),
    ],
    Category.OTHER: [("work_done", _("Work described in the notes"))],
}

RESOLUTIONS: dict[str, list[tuple[str, str]]] = {
    Category.INSTALLATION: [
        ("installed", _("Installed and working")),
        ("installed_partly", _("Installed, more work needed")),
    ],
    Category.RELOCATION: [("moved", _("Service moved and working"))],
    Category.REPAIR: [
        ("cable_replaced", _("Cable or connector replaced")),
        ("device_replaced", _("Device replaced")),
        ("configured", _("Settings corrected")),
        ("no_fault_found", _("No fault found")),
    ],
    Category.OUTAGE: [
        ("line_repaired", _("Line repaired")),
        ("equipment_restarted", _("Network equipment restarted")),
        ("network_side", _("Fault on the network side, handed over")),
    ],
    Category.MAINTENANCE: [("maintained", _("Maintenance done"))],
    Category.OTHER: [("done", _("Done"))],
}


def checklist_for(category: str) -> list[tuple[str, str]]:
    return CHECKLISTS.get(category, CHECKLISTS[Category.OTHER])


def resolutions_for(category: str) -> list[tuple[str, str]]:
    return RESOLUTIONS.get(category, RESOLUTIONS[Category.OTHER])
