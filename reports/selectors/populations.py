"""The populations the KPIs count: requests and visits of a period, read from the rows."""

from datetime import timedelta

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from reports.selectors.filters import REPEAT_DAYS, Kind, KpiFilter
from requests_app.models import ServiceRequest, StatusChange
from requests_app.states import Status
from technicians.models import Visit

# ---- Populations ------------------------------------------------------------------------


def _visits_of(f: KpiFilter) -> Q:
    """Visits by the technicians the filter names (a territory, one technician)."""
    return f.technicians_q()


def _requests(f: KpiFilter) -> QuerySet:
    queryset = ServiceRequest.objects.for_tenant(f.tenant_id)
    if f.category:
        queryset = queryset.filter(category=f.category)
    if f.channel:
        queryset = queryset.filter(channel=f.channel)
    if f.narrows_technicians:
        # A request counts for the technicians who had a visit for it.
        queryset = queryset.filter(
            Exists(Visit.objects.filter(_visits_of(f), request_id=OuterRef("pk")))
        )
    return queryset


def _first_change(to: str, *, last: bool = False) -> Subquery:
    changes = StatusChange.objects.filter(request_id=OuterRef("pk"), to_status=to)
    order = "-created_at" if last else "created_at"
    return Subquery(changes.order_by(order).values("created_at")[:1], output_field=DateTimeField())


def _first_arrival() -> Subquery:
    arrivals = Visit.objects.filter(request_id=OuterRef("pk"), arrived_at__isnull=False)
    return Subquery(arrivals.order_by("arrived_at").values("arrived_at")[:1])


def _windows(f: KpiFilter) -> QuerySet:
    """Planned requests whose agreed window ended in the period (and is over), not cancelled
    before it ended: each one a promise to judge."""
    cancelled_early = StatusChange.objects.filter(  # the tenant: its index, not every tenant's
        tenant_id=f.tenant_id,
        request_id=OuterRef("pk"),
        to_status=Status.CANCELLED,
        created_at__lt=OuterRef("window_end"),
    )
    return (
        _requests(f)
        .filter(kind=Kind.PLANNED, window_end__gte=f.start, window_end__lt=f.until)
        .exclude(Exists(cancelled_early))
        .annotate(first_arrival=_first_arrival())
    )


def _emergencies(f: KpiFilter, *, sla_minutes: int) -> QuerySet:
    deadline = Coalesce(
        F("response_due"),
        ExpressionWrapper(
            F("created_at") + timedelta(minutes=sla_minutes), output_field=DateTimeField()
        ),
    )
    return (
        _requests(f)
        .filter(kind=Kind.EMERGENCY, created_at__gte=f.start, created_at__lt=f.end)
        .exclude(status=Status.CANCELLED)
        .annotate(
            deadline=deadline,
            first_assigned=_first_change(Status.ASSIGNED),
            first_arrival=_first_arrival(),
        )
    )


def _completed(f: KpiFilter) -> QuerySet:
    """Requests completed (for the last time) in the period, still completed."""
    arrived = Visit.objects.filter(request_id=OuterRef("pk"), arrived_at__isnull=False)
    # Only requests with a completion in the period can have their last one in it: the
    # status changes' index by tenant, status and time finds them without reading every
    # completed request's history.
    completions = StatusChange.objects.filter(
        tenant_id=f.tenant_id,
        to_status=Status.COMPLETED,
        created_at__gte=f.start,
        created_at__lt=f.end,
    )
    return (
        _requests(f)
        .filter(status=Status.COMPLETED, pk__in=completions.values("request_id"))
        .annotate(
            completed_at=_first_change(Status.COMPLETED, last=True),
            arrivals=Coalesce(
                Subquery(
                    arrived.values("request_id").annotate(n=Count("pk")).values("n")[:1],
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
            reopened=Exists(
                StatusChange.objects.filter(request_id=OuterRef("pk"), from_status=Status.COMPLETED)
            ),
        )
        .filter(completed_at__gte=f.start, completed_at__lt=f.end)
    )


def _created(f: KpiFilter) -> QuerySet:
    return _requests(f).filter(created_at__gte=f.start, created_at__lt=f.end)


def _repeats(f: KpiFilter) -> QuerySet:
    earlier = ServiceRequest.objects.filter(
        tenant_id=f.tenant_id,
        customer_id=OuterRef("customer_id"),
        created_at__lt=OuterRef("created_at"),
        created_at__gte=ExpressionWrapper(
            OuterRef("created_at") - timedelta(days=REPEAT_DAYS), output_field=DateTimeField()
        ),
    )
    return _created(f).exclude(status=Status.CANCELLED).annotate(repeat=Exists(earlier))


def _finished_visits(f: KpiFilter) -> QuerySet:
    visits = Visit.objects.for_tenant(f.tenant_id).filter(
        _visits_of(f),
        status__in=[Visit.Status.COMPLETED, Visit.Status.NOT_COMPLETED],
        finished_at__gte=f.start,
        finished_at__lt=f.end,
    )
    if f.category:
        visits = visits.filter(request__category=f.category)
    if f.channel:
        visits = visits.filter(request__channel=f.channel)
    return visits
