"""The planning rules a dispatcher's assignment is checked against, before it is made (the
board asks while a card is dragged) and again when it is made (`request_assign_manually`).

Written apart from the solver on purpose: these are the rules as a dispatcher reads them,
one message each, and they must not change when the solver's model does.

The lunch rule, kept simple: on a shift with `lunch_minutes`, the break must fit between the
technician's live visits that day (this one added) somewhere inside 11:00–15:00 local time,
clipped to the shift; when the shift leaves less of that span than the break, anywhere inside
the shift. It is only reported when this visit touches that span (otherwise this assignment
did not take the room away). Travel between visits is not counted.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from requests_app.models import ServiceRequest
from technicians.models import Absence, Shift, Technician, Visit

LUNCH_FROM, LUNCH_TO = time(11, 0), time(15, 0)


@dataclass(frozen=True)
class Problem:
    code: str  # skill, window, sla, shift, overtime, absence, overlap, break
    message: str

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


def _hm(moment: datetime) -> str:
    return formats.time_format(timezone.localtime(moment), "H:i")


def assignment_problems(
    *, request: ServiceRequest, technician: Technician, start: datetime
) -> list[Problem]:
    """Every rule the visit (`start` for the request's estimated length) would break, in the
    tenant's time zone and the active language. An empty list: it breaks none. Five reads."""
    end = start + timedelta(minutes=request.estimated_minutes)
    name = str(technician)
    with timezone.override(request.tenant.zone):
        problems = _skill(request, technician, name)
        problems += _promise(request, start)
        shifts = list(
            Shift.objects.filter(
                technician=technician, start__lt=end + timedelta(days=1), end__gt=start
            ).order_by("start")
        )
        shift = next((s for s in shifts if s.start <= start < s.end), None)
        if shift is None:
            problems.append(
                Problem("shift", _("%(name)s has no shift at %(time)s.") % _named(name, start))
            )
        elif end > shift.end:
            problems.append(
                Problem(
                    "overtime",
                    _("The visit ends at %(end)s, after %(name)s's shift (%(shift_end)s).")
                    % {"end": _hm(end), "name": name, "shift_end": _hm(shift.end)},
                )
            )
        problems += _absence(technician, name, start, end)
        others = list(
            Visit.objects.filter(
                technician=technician,
                status__in=Visit.ACTIVE,
                planned_start__lt=end + timedelta(days=1),
                planned_end__gt=start - timedelta(days=1),
            )
            .exclude(request=request)
            .select_related("request")
            .order_by("planned_start")
        )
        problems += _overlap(others, start, end)
        if shift is not None and shift.lunch_minutes:
            problems += _lunch(shift, others, start, end, name)
    return problems


def _named(name: str, moment: datetime) -> dict:
    return {"name": name, "time": _hm(moment)}


def _skill(request: ServiceRequest, technician: Technician, name: str) -> list[Problem]:
    has = set(technician.skills.values_list("pk", flat=True))
    missing = [skill.name for skill in request.required_skills.all() if skill.pk not in has]
    if not missing:
        return []
    message = _("%(name)s lacks the skill: %(skills)s") % {
        "name": name,
        "skills": ", ".join(sorted(missing)),
    }
    return [Problem("skill", message)]


def _promise(request: ServiceRequest, start: datetime) -> list[Problem]:
    """The arrival must be inside the agreed window (planned) or by the response deadline
    (emergency)."""
    if request.kind == ServiceRequest.Kind.EMERGENCY:
        if request.response_due and start > request.response_due:
            message = _("Arrival at %(time)s is after the response deadline %(due)s.") % {
                "time": _hm(start),
                "due": _hm(request.response_due),
            }
            return [Problem("sla", message)]
        return []
    if request.window_start and not request.window_start <= start <= request.window_end:
        message = _("Arrival at %(time)s is outside the agreed window %(from)s–%(to)s.") % {
            "time": _hm(start),
            "from": _hm(request.window_start),
            "to": _hm(request.window_end),
        }
        return [Problem("window", message)]
    return []


def _absence(technician: Technician, name: str, start: datetime, end: datetime) -> list:
    absence = Absence.objects.filter(technician=technician, start__lt=end, end__gt=start).first()
    if absence is None:
        return []
    message = _("%(name)s is absent %(from)s–%(to)s.") % {
        "name": name,
        "from": _hm(absence.start),
        "to": _hm(absence.end),
    }
    if absence.reason:
        message = f"{message} ({absence.reason})"
    return [Problem("absence", message)]


def _overlap(others: list[Visit], start: datetime, end: datetime) -> list[Problem]:
    clash = next((v for v in others if v.planned_start < end and v.planned_end > start), None)
    if clash is None:
        return []
    message = _("It overlaps %(number)s (%(from)s–%(to)s).") % {
        "number": clash.request.number,
        "from": _hm(clash.planned_start),
        "to": _hm(clash.planned_end),
    }
    return [Problem("overlap", message)]


def _lunch(
    shift: Shift, others: list[Visit], start: datetime, end: datetime, name: str
) -> list[Problem]:
    day = timezone.localtime(shift.start).date()
    zone = timezone.get_current_timezone()
    span_from = max(shift.start, datetime.combine(day, LUNCH_FROM, tzinfo=zone))
    span_to = min(shift.end, datetime.combine(day, LUNCH_TO, tzinfo=zone))
    lunch = timedelta(minutes=shift.lunch_minutes)
    if span_to - span_from < lunch:
        span_from, span_to = shift.start, shift.end
    if not (start < span_to and end > span_from):
        return []
    busy = sorted(
        [(v.planned_start, v.planned_end) for v in others if v.planned_start < span_to]
        + [(start, end)]
    )
    clock = span_from
    for busy_start, busy_end in busy:
        if min(busy_start, span_to) - clock >= lunch:
            return []
        clock = max(clock, busy_end)
    if span_to - clock >= lunch:
        return []
    message = _("It leaves %(name)s no room for the %(minutes)d-minute lunch break.") % {
        "name": name,
        "minutes": shift.lunch_minutes,
    }
    return [Problem("break", message)]
