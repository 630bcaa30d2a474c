"""Reads of the dispatcher board: the queue of open requests, the timeline of the crew, and
one request's drawer. Scoped by user through the request and roster selectors; sorted,
bucketed and paged in SQL, so each read costs the same statements however many rows there are.

What needs a person (a request's `urgency`, the first that applies, in this order):
- escalated: status escalated;
- late: its live visit should have started (planned start past, technician not yet on the way
  or on site) or should have finished (planned end past, not finished);
- at_risk: the agreed window is flagged at risk, or an emergency's live visit is planned to
  start after the response deadline;
- unassigned: open, no live visit, not held by a dispatcher;
- held: a dispatcher took it back (unassigned it) and has not released it.
Its `deadline`: an emergency's response deadline; a planned request's window start (the
promise starts then), else its window end.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from dispatch.models import Decision
from requests_app.models import ServiceRequest, StatusChange
from requests_app.payloads import active_visit, request_payload
from requests_app.selectors import get_request_for_user, requests_for_user, with_active_visit
from requests_app.states import OPEN, Status
from technicians.models import Absence, Shift, Technician, Visit

# The buckets, in the order a request's urgency is the first that applies.
URGENCIES = ("escalated", "late", "at_risk", "unassigned", "held")
NEEDS = (*URGENCIES, "human")
NOT_STARTED = (Visit.Status.SCHEDULED, Visit.Status.ACCEPTED)


def _live_visits() -> QuerySet:
    return Visit.objects.filter(request=OuterRef("pk"), status__in=Visit.ACTIVE)


def late_visit_q(now: datetime, prefix: str = "") -> Q:
    """A live visit that should have started or finished by `now` (prefix: a path to it)."""
    started = Q(**{f"{prefix}status__in": NOT_STARTED, f"{prefix}planned_start__lt": now})
    return started | Q(**{f"{prefix}planned_end__lt": now})


def _annotated(queryset: QuerySet, now: datetime) -> QuerySet:
    """The buckets as booleans, the urgency, the deadline and the sort key, in SQL."""
    live = _live_visits()
    late_emergency = live.filter(planned_start__gt=OuterRef("response_due"))
    queryset = queryset.annotate(
        has_live=Exists(live),
        is_escalated=Q(status=Status.ESCALATED),
        is_late=Exists(live.filter(late_visit_q(now))),
        is_at_risk=Q(window_at_risk=True)
        | Q(Exists(late_emergency), kind=ServiceRequest.Kind.EMERGENCY),
        is_held=Q(held=True),
    ).annotate(is_unassigned=Q(has_live=False, held=False))
    urgency = Case(
        *(When(**{f"is_{name}": True}, then=Value(name)) for name in URGENCIES),
        default=None,
        output_field=CharField(),
    )
    deadline = Case(
        When(kind=ServiceRequest.Kind.EMERGENCY, then=F("response_due")),
        default=Coalesce("window_start", "window_end"),
        output_field=DateTimeField(),
    )
    return queryset.annotate(urgency=urgency, deadline=deadline)


def _bucket_q(need: str) -> Q:
    return Q(urgency__isnull=False) if need == "human" else Q(**{f"is_{need}": True})


@dataclass
class QueueFilters:
    kind: str | None = None
    category: str | None = None
    status: str | None = None
    channel: str | None = None
    skill: str | None = None
    technician: int | None = None
    territory: str | None = None
    search: str | None = None
    needs: str | None = None


NUMBER = re.compile(r"^(?:SR-?)?0*(\d{1,9})$", re.IGNORECASE)


def _filtered(queryset: QuerySet, filters: QueueFilters) -> QuerySet:
    for field in ("kind", "category", "status", "channel"):
        value = getattr(filters, field)
        if value:
            queryset = queryset.filter(**{field: value})
    if filters.skill:
        needs_skill = ServiceRequest.required_skills.through.objects.filter(
            servicerequest=OuterRef("pk"), skill__code=filters.skill
        )
        queryset = queryset.filter(Exists(needs_skill))
    if filters.technician:
        queryset = queryset.filter(Exists(_live_visits().filter(technician=filters.technician)))
    if filters.territory:
        on_territory = _live_visits().filter(technician__territory=filters.territory)
        queryset = queryset.filter(Exists(on_territory))
    if filters.search:
        text = filters.search.strip()
        match = Q(customer__name__icontains=text) | Q(address__icontains=text)
        match |= Q(customer__phone__icontains=text)
        number = NUMBER.match(text)
        if number:
            match |= Q(number_in_tenant=int(number.group(1)))
        queryset = queryset.filter(match)
    return queryset


def queue_row(request: ServiceRequest) -> dict:
    """A request as the queue and the drawer show it: its live payload and what it needs."""
    return {
        **request_payload(request, active_visit(request)),
        "urgency": request.urgency,
        "deadline": request.deadline.isoformat() if request.deadline else None,
        "held": request.held,
        "required_skills": [skill.code for skill in request.required_skills.all()],
    }


def board_queue(*, user: User, filters: QueueFilters, limit: int, offset: int) -> dict:
    """Open requests of the user's tenant that match, those needing a person first, each group
    by deadline (none last), then by age. `counts` are the buckets among the requests matching
    every filter but `needs` (so a screen's tabs keep their numbers); `count` matches all.
    Four statements: the counts, the page, its skills and its live visits."""
    now = timezone.now()
    queryset = _annotated(requests_for_user(user).filter(status__in=OPEN), now)
    queryset = _filtered(queryset, filters)
    totals = queryset.aggregate(
        open=Count("pk"),
        count=Count("pk", filter=_bucket_q(filters.needs)) if filters.needs else Count("pk"),
        **{need: Count("pk", filter=_bucket_q(need)) for need in NEEDS},
    )
    count = totals.pop("count")
    if filters.needs:
        queryset = queryset.filter(_bucket_q(filters.needs))
    page = with_active_visit(queryset).order_by(
        Case(When(urgency__isnull=False, then=Value(0)), default=Value(1)),
        F("deadline").asc(nulls_last=True),
        "created_at",
        "pk",
    )[offset : offset + limit]
    rows = [queue_row(request) for request in page]
    return {
        "count": count,
        "counts": totals,
        "results": rows,
        "limit": limit,
        "next_offset": offset + limit if offset + limit < count else None,
    }


def board_request(*, user: User, pk: int) -> dict:
    """One request's drawer: the queue row, the customer, the history (oldest first), every
    visit (newest first) and the engine's decisions. Seven statements."""
    request = get_request_for_user(user, pk)
    marks = _annotated(ServiceRequest.objects.filter(pk=request.pk), timezone.now())
    request.urgency, request.deadline = marks.values_list("urgency", "deadline").get()
    history = StatusChange.objects.filter(request=request).select_related("actor")
    visits = (
        Visit.objects.filter(request=request)
        .select_related("technician__user")
        .order_by("-created_at", "-pk")
    )
    decisions = Decision.objects.for_tenant(request.tenant_id).filter(request=request)
    return {
        "request": request,
        "customer": request.customer,
        "history": history.order_by("created_at", "pk"),
        "visits": visits,
        "decisions": decisions,
    }


def board_timeline(
    *,
    user: User,
    start: datetime,
    end: datetime,
    technician: int | None = None,
    territory: str | None = None,
    skill: str | None = None,
    search: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict:
    """A page of the active crew of the user's tenant by name, each with skills, shifts and
    absences overlapping the range, and the visits overlapping it (not cancelled) of those
    technicians. Paged because a browser draws a few dozen rows of a day quickly and a national
    crew's slowly. Seven statements."""
    crew = Technician.objects.for_tenant(user.tenant_id).filter(active=True)
    if technician:
        crew = crew.filter(pk=technician)
    if territory:
        crew = crew.filter(territory=territory)
    if skill:
        crew = crew.filter(skills__code=skill)
    if search:
        crew = crew.filter(
            Q(user__first_name__icontains=search)
            | Q(user__last_name__icontains=search)
            | Q(user__username__icontains=search)
        )
    order = ("user__first_name", "user__last_name", "user__username", "pk")
    count = crew.count()
    page = list(crew.order_by(*order).values_list("pk", flat=True)[offset : offset + limit])
    technicians = (
        Technician.objects.filter(pk__in=page)
        .select_related("user")
        .prefetch_related(
            "skills",
            Prefetch(
                "shifts",
                queryset=Shift.objects.filter(start__lt=end, end__gt=start).order_by("start"),
                to_attr="shifts_in_range",
            ),
            Prefetch(
                "absences",
                queryset=Absence.objects.filter(start__lt=end, end__gt=start).order_by("start"),
                to_attr="absences_in_range",
            ),
        )
        .order_by(*order)
    )
    visits = (
        Visit.objects.for_tenant(user.tenant_id)
        .filter(technician__in=page, planned_start__lt=end, planned_end__gt=start)
        .exclude(status=Visit.Status.CANCELLED)
        .select_related("request__customer")
        .order_by("planned_start", "pk")
    )
    following = offset + limit if offset + limit < count else None
    return {
        "start": start,
        "end": end,
        "technicians": technicians if page else [],
        "visits": visits if page else [],
        "count": count,
        "limit": limit,
        "next_offset": following,
    }


def visit_is_late(visit: Visit, now: datetime) -> bool:
    """`late_visit_q` for a visit in hand (the same rule, without a query)."""
    if visit.status not in Visit.ACTIVE:
        return False
    return (visit.status in NOT_STARTED and visit.planned_start < now) or visit.planned_end < now


def visit_is_at_risk(visit: Visit) -> bool:
    request = visit.request
    if request.window_at_risk:
        return True
    return bool(
        request.kind == ServiceRequest.Kind.EMERGENCY
        and visit.is_active
        and request.response_due
        and visit.planned_start > request.response_due
    )
