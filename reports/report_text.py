"""What the report page's scripts say, in the reader's language: KPI names, causes, reasons,
channels, and the few words the charts and tables need."""

from django.utils.translation import gettext as _

from reports import selectors
from requests_app.models import ServiceRequest
from technicians.models import Visit


def report_words() -> dict:
    return {
        "kpis": {
            **{key: str(definition.label) for key, definition in selectors.RATES.items()},
            "promise_misses": _("Promise misses"),
            "requests_by_channel": _("Requests by channel"),
            "backlog": _("Backlog"),
            "complaints": _("Complaints"),
        },
        "causes": {key: str(label) for key, label in selectors.Cause.LABELS.items()},
        "reasons": {key: str(label) for key, label in Visit.Reason.choices},
        "channels": {key: str(label) for key, label in ServiceRequest.Channel.choices},
        "ages": {
            "lt_1d": _("under a day"),
            "1_3d": _("1–3 days"),
            "3_7d": _("3–7 days"),
            "gt_7d": _("over a week"),
        },
        "previous": _("previous period"),
        "no_data": _("no data"),
        "of": _("of"),
        "csat": _("CSAT (average of 1–5)"),
        "nps": _("NPS"),
        "answers": _("answers"),
        "time_to_restore": _("Time to restore (median hours)"),
        "within_sla": _("within the SLA"),
        "utilization": _("Utilization (work ÷ shift)"),
        "travel_share": _("Travel share"),
        "jobs_per_day": _("Jobs per technician-day"),
        "open": _("open"),
        "median_age": _("median age, hours"),
        "opened": _("opened"),
        "still_open": _("still open"),
        "cause": _("Cause"),
        "reason": _("Reason"),
        "channel": _("Channel"),
        "count": _("Count"),
        "age": _("Age"),
        "error": _("The report could not be loaded."),
        "export_failed": _("The export failed."),
    }
