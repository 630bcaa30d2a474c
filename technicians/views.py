"""The technician's mobile view: the day's jobs and the status buttons."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from core.errors import DomainError, NotFound
from technicians.models import Visit
from technicians.selectors import get_visit_for_user, technician_for_user, visits_of_day
from technicians.services import VISIT_FLOW, visit_transition

VisitStatus = Visit.Status
ACTION_LABELS = {
    VisitStatus.ACCEPTED: _("Accept"),
    VisitStatus.EN_ROUTE: _("On my way"),
    VisitStatus.ON_SITE: _("Arrived"),
    VisitStatus.COMPLETED: _("Done"),
    VisitStatus.NOT_COMPLETED: _("Could not complete"),
}
NEXT_STEPS = {
    VisitStatus.SCHEDULED: [VisitStatus.ACCEPTED],
    VisitStatus.ACCEPTED: [VisitStatus.EN_ROUTE],
    VisitStatus.EN_ROUTE: [VisitStatus.ON_SITE],
    VisitStatus.ON_SITE: [VisitStatus.COMPLETED, VisitStatus.NOT_COMPLETED],
}


@role_required(Role.TECHNICIAN)
def day(request: HttpRequest) -> HttpResponse:
    try:
        technician = technician_for_user(request.user)
    except NotFound:
        raise Http404 from None
    today = timezone.localdate()
    visits = list(visits_of_day(technician=technician, day=today))
    for visit in visits:
        steps = NEXT_STEPS.get(visit.status, [])
        visit.next_steps = [(step, ACTION_LABELS[step]) for step in steps]
    return render(
        request,
        "technicians/day.html",
        {
            "technician": technician,
            "visits": visits,
            "today": today,
            "reasons": Visit.Reason.choices,
        },
    )


@require_POST
@role_required(Role.TECHNICIAN)
def visit_step(request: HttpRequest, pk: int, to: str) -> HttpResponse:
    try:
        visit = get_visit_for_user(request.user, pk)
    except NotFound:
        raise Http404 from None
    if to not in VISIT_FLOW:
        raise Http404
    try:
        visit_transition(
            visit=visit,
            to=to,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", "")[:2000],
        )
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("technician-day")
