"""The KPIs: one selector per figure, each defined in docs/kpis.md, read from the rows the
platform keeps (requests and their status changes, visits, shifts, absences, survey responses
and follow-up cases).

A rate KPI is a population (a queryset of requests or visits in the period), the date that
puts a row in a period, and the condition a row meets to count: the headline, the trend and
the drill-down all read that one definition, so a number and the list behind it never
disagree. Every selector runs a fixed number of queries, whatever the volume.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, Tenant, User
from accounts.permissions import tenants_served
from core.errors import NotFound
from reports.models import DailyKpi, ExportJob, PromiseRisk
from requests_app.models import ServiceRequest, StatusChange
from requests_app.states import Status
from surveys.models import FollowUpCase, Response
from technicians.models import Absence, Shift, Visit

Kind = ServiceRequest.Kind
OPEN = [s for s in Status.values if s not in (Status.COMPLETED, Status.CANCELLED)]
BUCKETS = ("day", "week", "month")
REPEAT_DAYS = 30
# How long before a window opens an emergency or a change still breaks it (docs/kpis.md).
BREAK_IN_LEAD = timedelta(hours=2)


# Who reads reports: managers and admins (a technician sees only their own scorecard).
REPORT_ROLES = (Role.MANAGER, Role.ADMIN)


def report_tenant_for_user(user: User, tenant_id: int | None = None) -> Tenant:
    """The client a report is about: the user's own, or another they serve (an admin who
    answers for several clients picks one); 404 for any other, as if it did not exist."""
    if not user.is_authenticated or user.tenant_id is None or user.role not in REPORT_ROLES:
        raise NotFound()
    if tenant_id is None or tenant_id == user.tenant_id:
        return user.tenant
    for served in tenants_served(user):
        if served.pk == tenant_id:
            return served
    raise NotFound()


@dataclass(frozen=True)
class KpiFilter:
    """What a report is about: one tenant, a period [start, end) and optional narrowing."""

    tenant_id: int
    start: datetime
    end: datetime
    zone: ZoneInfo
    territory: str = ""
    technician_id: int | None = None
    category: str = ""
    channel: str = ""

    @classmethod
    def for_days(cls, *, tenant, first: date, last: date, **narrowing) -> "KpiFilter":
        """Whole days in the tenant's time zone, `last` included."""
        zone = tenant.zone
        start = timezone.make_aware(datetime.combine(first, time.min), zone)
        end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), zone)
        return cls(tenant_id=tenant.pk, start=start, end=end, zone=zone, **narrowing)

    def previous(self) -> "KpiFilter":
        """The period of the same length just before: what a change is measured against."""
        length = self.end - self.start
        return replace(self, start=self.start - length, end=self.start)

    @property
    def until(self) -> datetime:
        """The end of the period, never later than now (a window still open is not judged)."""
        return min(self.end, timezone.now())


def kpi_filter_for(*, tenant: Tenant, first: date, last: date, **narrowing) -> KpiFilter:
    return KpiFilter.for_days(tenant=tenant, first=first, last=last, **narrowing)


# ---- Populations ------------------------------------------------------------------------


def _visits_of(f: KpiFilter) -> Q:
    """Visits by the technicians the filter names (a territory, one technician)."""
    q = Q()
    if f.technician_id:
        q &= Q(technician_id=f.technician_id)
    if f.territory:
        q &= Q(technician__territory=f.territory)
    return q


def _requests(f: KpiFilter) -> QuerySet:
    queryset = ServiceRequest.objects.for_tenant(f.tenant_id)
    if f.category:
        queryset = queryset.filter(category=f.category)
    if f.channel:
        queryset = queryset.filter(channel=f.channel)
    if f.technician_id or f.territory:
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
    cancelled_early = StatusChange.objects.filter(
        request_id=OuterRef("pk"), to_status=Status.CANCELLED, created_at__lt=OuterRef("window_end")
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
    return (
        _requests(f)
        .filter(status=Status.COMPLETED)
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


# ---- Rate KPIs: one definition for the headline, the trend and the drill-down ------------


@dataclass(frozen=True)
class RateDefinition:
    key: str
    label: str
    population: object  # (KpiFilter, Tenant) → QuerySet
    date_field: str
    hit: Q
    of_visits: bool = False  # a population of visits (drilled down to their requests)


def _on_time(f, tenant):
    return _windows(f).filter(first_arrival__isnull=False)


RATES = {
    definition.key: definition
    for definition in (
        RateDefinition(
            "on_time_arrival",
            _("On-time arrival"),
            _on_time,
            "window_end",
            Q(first_arrival__gte=F("window_start"), first_arrival__lte=F("window_end")),
        ),
        RateDefinition(
            "windows_kept",
            _("Windows kept"),
            lambda f, tenant: _windows(f),
            "window_end",
            Q(first_arrival__lte=F("window_end")),
        ),
        RateDefinition(
            "emergency_assigned_in_sla",
            _("Emergencies assigned within the SLA"),
            lambda f, tenant: _emergencies(f, sla_minutes=tenant.response_sla_minutes),
            "created_at",
            Q(first_assigned__lte=F("deadline")),
        ),
        RateDefinition(
            "emergency_on_site_in_sla",
            _("Emergencies on site within the SLA"),
            lambda f, tenant: _emergencies(f, sla_minutes=tenant.response_sla_minutes),
            "created_at",
            Q(first_arrival__lte=F("deadline")),
        ),
        RateDefinition(
            "first_time_fix",
            _("First-time fix"),
            lambda f, tenant: _completed(f),
            "completed_at",
            Q(arrivals__lte=1, reopened=False),
        ),
        RateDefinition(
            "repeat_requests",
            _("Repeat requests within 30 days"),
            lambda f, tenant: _repeats(f),
            "created_at",
            Q(repeat=True),
        ),
        RateDefinition(
            "unproductive_visits",
            _("Unproductive visits"),
            lambda f, tenant: _finished_visits(f),
            "finished_at",
            Q(status=Visit.Status.NOT_COMPLETED),
            of_visits=True,
        ),
    )
}


@dataclass(frozen=True)
class Rate:
    key: str
    label: str
    hits: int
    total: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.hits / self.total, 1) if self.total else None


def kpi_rate(*, key: str, f: KpiFilter, tenant) -> Rate:
    """Live from the rows, or — without a technician or territory filter — the days the
    nightly roll-up holds summed and the rest (today at least) computed live."""
    definition = RATES[key]
    if f.technician_id or f.territory:
        hits, total = _live_counts(definition, f, tenant)
        return Rate(key, str(definition.label), hits, total)
    cutoff = _rolled_up_until(f)
    hits = total = 0
    if cutoff > f.start:
        rolled = replace(f, end=cutoff)
        hits, total = _rolled_counts(key, rolled)
    if cutoff < f.end:
        live_hits, live_total = _live_counts(definition, replace(f, start=cutoff), tenant)
        hits, total = hits + live_hits, total + live_total
    return Rate(key, str(definition.label), hits, total)


def _live_counts(definition: "RateDefinition", f: KpiFilter, tenant) -> tuple[int, int]:
    counts = definition.population(f, tenant).aggregate(
        total=Count("pk"), hits=Count("pk", filter=definition.hit)
    )
    return counts["hits"], counts["total"]


ROLLUP_MARK = "_day"  # a day's marker row: the day was rolled up (even with nothing in it)


def _days(f: KpiFilter) -> list[date]:
    first = timezone.localtime(f.start, f.zone).date()
    last = timezone.localtime(f.end - timedelta(microseconds=1), f.zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), zone)


def _rolled_up_until(f: KpiFilter) -> datetime:
    """The end of the run of days from the period's start that the roll-up holds, never past
    the start of today (today is always live). One query per report, cached on the filter."""
    today = timezone.localdate(timezone=f.zone)
    days = _days(f)
    refreshed = set(
        DailyKpi.objects.for_tenant(f.tenant_id)
        .filter(kpi=ROLLUP_MARK, day__gte=days[0], day__lte=days[-1])
        .values_list("day", flat=True)
    )
    cutoff = f.start
    for day in days:
        if day >= today or day not in refreshed:
            break
        cutoff = _day_start(day + timedelta(days=1), f.zone)
    return min(cutoff, f.end)


def _rolled_counts(key: str, f: KpiFilter) -> tuple[int, int]:
    days = _days(f)
    rows = DailyKpi.objects.for_tenant(f.tenant_id).filter(
        kpi=key, day__gte=days[0], day__lte=days[-1]
    )
    if f.category:
        rows = rows.filter(category=f.category)
    if f.channel:
        rows = rows.filter(channel=f.channel)
    sums = rows.aggregate(hits=Sum("hits"), total=Sum("total"))
    return sums["hits"] or 0, sums["total"] or 0


def kpi_rates_by_cell(*, f: KpiFilter, tenant) -> list[dict]:
    """Every rate KPI of the period by category and channel (what the roll-up keeps), and the
    day's marker. One query per KPI."""
    cells = [{"kpi": ROLLUP_MARK, "category": "", "channel": "", "hits": 0, "total": 0}]
    for key, definition in RATES.items():
        prefix = "request__" if definition.of_visits else ""
        rows = (
            definition.population(f, tenant)
            .values(category_=F(f"{prefix}category"), channel_=F(f"{prefix}channel"))
            .annotate(total=Count("pk"), hits=Count("pk", filter=definition.hit))
            .order_by()
        )
        cells += [
            {
                "kpi": key,
                "category": row["category_"],
                "channel": row["channel_"],
                "hits": row["hits"],
                "total": row["total"],
            }
            for row in rows
        ]
    return cells


def kpi_rate_trend(*, key: str, f: KpiFilter, tenant, bucket: str) -> list[dict]:
    """The rate per day/week/month of the tenant's calendar: one query."""
    definition = RATES[key]
    rows = (
        definition.population(f, tenant)
        .annotate(period=Trunc(definition.date_field, bucket, tzinfo=f.zone))
        .values("period")
        .annotate(total=Count("pk"), hits=Count("pk", filter=definition.hit))
        .order_by("period")
    )
    return [
        {
            "period": row["period"],
            "hits": row["hits"],
            "total": row["total"],
            "percent": Rate(key, "", row["hits"], row["total"]).percent,
        }
        for row in rows
    ]


def _split(definition: RateDefinition, rows: QuerySet, part: str) -> QuerySet:
    """Hits, misses or all. A miss is what is not a hit, a row whose compared value is
    missing (no arrival yet) included: SQL's NOT would drop those with their NULL."""
    if part == "all":
        return rows
    counted = Case(When(definition.hit, then=Value(True)), default=Value(False))
    rows = rows.annotate(counted=ExpressionWrapper(counted, output_field=BooleanField()))
    return rows.filter(counted=(part == "hits"))


def kpi_requests(*, key: str, f: KpiFilter, tenant, part: str = "hits") -> QuerySet:
    """The requests a figure counts (`part`: its hits, its misses or all of it)."""
    if key in RATES:
        definition = RATES[key]
        rows = _split(definition, definition.population(f, tenant), part)
        if definition.of_visits:
            return _requests_named(f, rows.values("request_id"))
        return _requests_named(f, rows.values("pk"))
    if key == "requests_by_channel":
        rows = _created(f)
        return _requests_named(
            f, (rows.filter(channel=part) if part != "all" else rows).values("pk")
        )
    if key == "backlog":
        return _requests_named(f, _requests(f).filter(status__in=OPEN).values("pk"))
    if key == "complaints":
        cases = _complaints(f).values("request_id")
        return _requests_named(f, cases)
    if key == "promise_misses":
        kept = RATES["windows_kept"]
        misses = _split(kept, kept.population(f, tenant), "misses")
        if part not in ("all", "hits", "misses"):
            ids = [
                miss.request_id for miss in promise_misses(f=f, tenant=tenant) if miss.cause == part
            ]
            return _requests_named(f, ids)
        return _requests_named(f, misses.values("pk"))
    raise KeyError(key)


# Figures whose requests can be listed: the rates, and the counts below.
DRILLABLE = [*RATES, "promise_misses", "requests_by_channel", "backlog", "complaints"]


def _requests_named(f: KpiFilter, ids) -> QuerySet:
    return (
        ServiceRequest.objects.for_tenant(f.tenant_id)
        .filter(pk__in=ids)
        .select_related("customer")
        .order_by("-created_at", "-pk")
    )


# ---- Promise misses by cause -------------------------------------------------------------


class Cause:
    """The causes of a broken promise (`PromiseRisk.Cause`), as the reports name them."""

    NOT_ASSIGNED = PromiseRisk.Cause.NOT_ASSIGNED.value
    TECHNICIAN_ABSENT = PromiseRisk.Cause.TECHNICIAN_ABSENT.value
    EMERGENCY_BREAK_IN = PromiseRisk.Cause.EMERGENCY_BREAK_IN.value
    DISPATCHER_CHANGE = PromiseRisk.Cause.DISPATCHER_CHANGE.value
    CUSTOMER_RESCHEDULED = PromiseRisk.Cause.CUSTOMER_RESCHEDULED.value
    PREVIOUS_JOB_OVERRAN = PromiseRisk.Cause.PREVIOUS_JOB_OVERRAN.value
    TRAVEL = PromiseRisk.Cause.TRAVEL.value

    LABELS = dict(PromiseRisk.Cause.choices)
    # What a technician can do something about (their scorecard counts only these).
    CONTROLLABLE = {PREVIOUS_JOB_OVERRAN, TRAVEL}


@dataclass(frozen=True)
class PromiseMiss:
    request_id: int
    number: str
    technician_id: int | None
    window_end: datetime
    first_arrival: datetime | None
    cause: str


def promise_misses(*, f: KpiFilter, tenant) -> list[PromiseMiss]:
    """Every window not kept in the period, with its cause: the one recorded when the plan
    broke that window (`PromiseRisk`), else read from the rows (rules in docs/kpis.md, the
    first that applies). Six queries, whatever the number of misses."""
    definition = RATES["windows_kept"]
    last_visit = Visit.objects.filter(request_id=OuterRef("pk")).order_by("-created_at", "-pk")
    missed = list(
        _split(definition, definition.population(f, tenant), "misses")
        .annotate(
            visit_technician=Subquery(last_visit.values("technician_id")[:1]),
            visit_start=Subquery(last_visit.values("planned_start")[:1]),
            visit_travel=Subquery(last_visit.values("travel_minutes")[:1]),
        )
        .values(
            "pk",
            "number_in_tenant",
            "window_start",
            "window_end",
            "first_arrival",
            "visit_technician",
            "visit_start",
            "visit_travel",
        )
    )
    if not missed:
        return []
    technicians = {row["visit_technician"] for row in missed} - {None}
    earliest = min(row["window_start"] for row in missed) - BREAK_IN_LEAD - timedelta(hours=12)
    latest = max(row["window_end"] for row in missed)
    absences = list(
        Absence.objects.filter(
            technician_id__in=technicians, start__lt=latest, end__gt=earliest
        ).values("technician_id", "start", "end")
    )
    emergencies = list(
        Visit.objects.filter(
            technician_id__in=technicians,
            request__kind=Kind.EMERGENCY,
            planned_start__lt=latest,
            planned_start__gte=earliest,
        ).values("technician_id", "planned_start")
    )
    previous = list(
        Visit.objects.filter(
            technician_id__in=technicians,
            planned_start__lt=latest,
            planned_start__gte=earliest,
            finished_at__isnull=False,
        ).values("technician_id", "planned_start", "planned_end", "finished_at")
    )
    changes = list(
        StatusChange.objects.filter(
            request_id__in=[row["pk"] for row in missed],
            to_status__in=[Status.RESCHEDULED, Status.ASSIGNED, Status.NEW],
        )
        .exclude(from_status__in=["", Status.NOT_COMPLETED, Status.ESCALATED])
        .values("request_id", "created_at", "to_status", "actor__role")
    )
    recorded = {}
    for risk in PromiseRisk.objects.filter(request_id__in=[row["pk"] for row in missed]).values(
        "request_id", "window_end", "cause"
    ):  # in order of time: the last break of the window that was judged wins
        recorded[(risk["request_id"], risk["window_end"])] = risk["cause"]
    return [
        PromiseMiss(
            request_id=row["pk"],
            number=f"SR-{row['number_in_tenant']:06d}" if row["number_in_tenant"] else "SR-new",
            technician_id=row["visit_technician"],
            window_end=row["window_end"],
            first_arrival=row["first_arrival"],
            cause=recorded.get((row["pk"], row["window_end"]))
            or _cause(row, absences, emergencies, previous, changes),
        )
        for row in missed
    ]


def _cause(row, absences, emergencies, previous, changes) -> str:
    technician = row["visit_technician"]
    opens, closes = row["window_start"] - BREAK_IN_LEAD, row["window_end"]
    if technician is None:
        return Cause.NOT_ASSIGNED
    if any(
        a["technician_id"] == technician and a["start"] < closes and a["end"] > row["window_start"]
        for a in absences
    ):
        return Cause.TECHNICIAN_ABSENT
    if any(
        e["technician_id"] == technician and opens <= e["planned_start"] < closes
        for e in emergencies
    ):
        return Cause.EMERGENCY_BREAK_IN
    late_changes = [
        c for c in changes if c["request_id"] == row["pk"] and opens <= c["created_at"] < closes
    ]
    if any(c["actor__role"] in (Role.DISPATCHER, Role.ADMIN) for c in late_changes):
        return Cause.DISPATCHER_CHANGE
    if any(c["to_status"] == Status.RESCHEDULED for c in late_changes):
        return Cause.CUSTOMER_RESCHEDULED
    leave_by = (row["visit_start"] or closes) - timedelta(minutes=row["visit_travel"] or 0)
    before = [
        p
        for p in previous
        if p["technician_id"] == technician
        and p["planned_start"] < (row["visit_start"] or closes)
        and p["planned_start"].date() == (row["visit_start"] or closes).date()
    ]
    if any(p["finished_at"] > p["planned_end"] and p["finished_at"] > leave_by for p in before):
        return Cause.PREVIOUS_JOB_OVERRAN
    return Cause.TRAVEL


def promise_misses_by_cause(*, f: KpiFilter, tenant) -> dict[str, int]:
    counts = dict.fromkeys(Cause.LABELS, 0)
    for miss in promise_misses(f=f, tenant=tenant):
        counts[miss.cause] += 1
    return counts


# ---- Other KPIs --------------------------------------------------------------------------


def unproductive_visits_by_reason(*, f: KpiFilter) -> dict[str, int]:
    rows = (
        _finished_visits(f)
        .filter(status=Visit.Status.NOT_COMPLETED)
        .values("reason")
        .annotate(n=Count("pk"))
    )
    return {row["reason"] or Visit.Reason.OTHER: row["n"] for row in rows}


@dataclass(frozen=True)
class Restoration:
    n: int
    median_hours: float | None
    within_sla: int


def time_to_restore(*, f: KpiFilter, tenant) -> Restoration:
    """Emergencies completed in the period: from the report to the completion."""
    rows = list(
        _completed(f)
        .filter(kind=Kind.EMERGENCY)
        .values_list("created_at", "completed_at", "restoration_due")
    )
    hours = [(done - created).total_seconds() / 3600 for created, done, _due in rows]
    sla = timedelta(minutes=tenant.restoration_sla_minutes)
    within = sum(1 for created, done, due in rows if done <= (due or created + sla))
    return Restoration(len(rows), round(median(hours), 2) if hours else None, within)


@dataclass(frozen=True)
class Satisfaction:
    csat_n: int
    csat_average: float | None
    csat_satisfied_percent: float | None
    nps_n: int
    nps: float | None


def satisfaction(*, f: KpiFilter) -> Satisfaction:
    """CSAT and NPS with their n: the definitions of `surveys.selectors.survey_results` (one
    query), narrowed by the report's filters through the response's request and technician."""
    responses = Response.objects.for_tenant(f.tenant_id).filter(
        submitted_at__gte=f.start, submitted_at__lt=f.end, complete=True
    )
    if f.technician_id:
        responses = responses.filter(technician_id=f.technician_id)
    if f.territory:
        responses = responses.filter(technician__territory=f.territory)
    if f.category:
        responses = responses.filter(request__category=f.category)
    if f.channel:
        responses = responses.filter(request__channel=f.channel)
    row = responses.aggregate(
        csat_n=Count("csat"),
        csat_sum=Sum("csat"),
        satisfied=Count("pk", filter=Q(csat__gte=4)),
        nps_n=Count("nps"),
        promoters=Count("pk", filter=Q(nps__gte=9)),
        detractors=Count("pk", filter=Q(nps__lte=6)),
    )
    csat_n, nps_n = row["csat_n"], row["nps_n"]
    return Satisfaction(
        csat_n=csat_n,
        csat_average=round(row["csat_sum"] / csat_n, 2) if csat_n else None,
        csat_satisfied_percent=round(100 * row["satisfied"] / csat_n, 1) if csat_n else None,
        nps_n=nps_n,
        nps=round(100 * (row["promoters"] - row["detractors"]) / nps_n, 1) if nps_n else None,
    )


@dataclass(frozen=True)
class Workload:
    shift_minutes: int
    work_minutes: int
    travel_minutes: int
    technician_days: int
    jobs_completed: int

    @property
    def utilization_percent(self) -> float | None:
        return _share(self.work_minutes, self.shift_minutes)

    @property
    def travel_share_percent(self) -> float | None:
        return _share(self.travel_minutes, self.shift_minutes)

    @property
    def jobs_per_technician_day(self) -> float | None:
        if not self.technician_days:
            return None
        return round(self.jobs_completed / self.technician_days, 2)


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def workload(*, f: KpiFilter) -> Workload:
    """Utilization (on site ÷ shift), travel share (en route ÷ shift) and jobs per
    technician-day, over the shifts that started in the period and the visits in them."""
    shifts = Shift.objects.for_tenant(f.tenant_id).filter(start__gte=f.start, start__lt=f.end)
    if f.technician_id:
        shifts = shifts.filter(technician_id=f.technician_id)
    if f.territory:
        shifts = shifts.filter(technician__territory=f.territory)
    length = ExpressionWrapper(F("end") - F("start"), output_field=DurationField())
    shift = shifts.aggregate(total=Sum(length), lunch=Sum("lunch_minutes"), days=Count("pk"))
    visits = Visit.objects.for_tenant(f.tenant_id).filter(
        _visits_of(f), arrived_at__gte=f.start, arrived_at__lt=f.end
    )
    work = ExpressionWrapper(F("finished_at") - F("arrived_at"), output_field=DurationField())
    travel = ExpressionWrapper(F("arrived_at") - F("en_route_at"), output_field=DurationField())
    done = visits.aggregate(
        work=Sum(work, filter=Q(finished_at__isnull=False)),
        travel=Sum(travel, filter=Q(en_route_at__isnull=False)),
        jobs=Count("pk", filter=Q(status=Visit.Status.COMPLETED)),
    )
    minutes = lambda d: int(d.total_seconds() // 60) if d else 0  # noqa: E731
    return Workload(
        shift_minutes=max(minutes(shift["total"]) - (shift["lunch"] or 0), 0),
        work_minutes=minutes(done["work"]),
        travel_minutes=minutes(done["travel"]),
        technician_days=shift["days"],
        jobs_completed=done["jobs"],
    )


@dataclass(frozen=True)
class Backlog:
    open: int
    median_age_hours: float | None
    by_age: dict[str, int]


AGE_BUCKETS = (("lt_1d", 1), ("1_3d", 3), ("3_7d", 7), ("gt_7d", None))


def backlog(*, f: KpiFilter, now: datetime | None = None) -> Backlog:
    """Requests open now (not completed, not cancelled) and how long they have waited."""
    now = now or timezone.now()
    created = list(_requests(f).filter(status__in=OPEN).values_list("created_at", flat=True))
    ages = sorted((now - moment).total_seconds() / 3600 for moment in created)
    by_age, low = {}, 0
    for name, days in AGE_BUCKETS:
        high = days * 24 if days else float("inf")
        by_age[name] = sum(1 for age in ages if low <= age < high)
        low = high
    return Backlog(len(ages), round(median(ages), 1) if ages else None, by_age)


def requests_by_channel(*, f: KpiFilter) -> dict[str, int]:
    rows = _created(f).values("channel").annotate(n=Count("pk")).order_by("channel")
    return {row["channel"]: row["n"] for row in rows}


def _complaints(f: KpiFilter) -> QuerySet:
    cases = FollowUpCase.objects.for_tenant(f.tenant_id).filter(
        created_at__gte=f.start, created_at__lt=f.end
    )
    if f.technician_id or f.territory or f.category or f.channel:
        cases = cases.filter(request__in=_requests(f).values("pk"))
    return cases


@dataclass(frozen=True)
class Complaints:
    opened: int
    still_open: int
    per_1000_completed: float | None


def complaints(*, f: KpiFilter, tenant) -> Complaints:
    """Follow-up cases opened in the period (a low survey score tied to a request)."""
    counts = _complaints(f).aggregate(
        opened=Count("pk"), still_open=Count("pk", filter=Q(status=FollowUpCase.Status.OPEN))
    )
    completed = _completed(f).count()
    rate = round(1000 * counts["opened"] / completed, 1) if completed else None
    return Complaints(counts["opened"], counts["still_open"], rate)


# ---- The report: every figure of a period, with the previous period's --------------------


def kpi_figures(*, f: KpiFilter, tenant) -> dict:
    """Every KPI of one period as plain values (what the page, the API and exports show)."""
    rates = {key: kpi_rate(key=key, f=f, tenant=tenant) for key in RATES}
    load = workload(f=f)
    restore = time_to_restore(f=f, tenant=tenant)
    mood = satisfaction(f=f)
    cases = complaints(f=f, tenant=tenant)
    return {
        "rates": {
            key: {"label": r.label, "hits": r.hits, "total": r.total, "percent": r.percent}
            for key, r in rates.items()
        },
        "promise_misses_by_cause": promise_misses_by_cause(f=f, tenant=tenant),
        "unproductive_by_reason": unproductive_visits_by_reason(f=f),
        "time_to_restore": {
            "n": restore.n,
            "median_hours": restore.median_hours,
            "within_sla": restore.within_sla,
        },
        "satisfaction": {
            "csat_n": mood.csat_n,
            "csat_average": mood.csat_average,
            "csat_satisfied_percent": mood.csat_satisfied_percent,
            "nps_n": mood.nps_n,
            "nps": mood.nps,
        },
        "workload": {
            "shift_minutes": load.shift_minutes,
            "utilization_percent": load.utilization_percent,
            "travel_share_percent": load.travel_share_percent,
            "technician_days": load.technician_days,
            "jobs_completed": load.jobs_completed,
            "jobs_per_technician_day": load.jobs_per_technician_day,
        },
        "requests_by_channel": requests_by_channel(f=f),
        "complaints": {
            "opened": cases.opened,
            "still_open": cases.still_open,
            "per_1000_completed": cases.per_1000_completed,
        },
    }


def kpi_summary(*, f: KpiFilter, tenant) -> dict:
    """This period's figures, the previous period's, and the backlog now."""
    current = kpi_figures(f=f, tenant=tenant)
    before = kpi_figures(f=f.previous(), tenant=tenant)
    for key, rate in current["rates"].items():
        was = before["rates"][key]["percent"]
        now = rate["percent"]
        rate["change"] = round(now - was, 1) if now is not None and was is not None else None
        rate["previous_percent"] = was
    stock = backlog(f=f)
    current["backlog"] = {
        "open": stock.open,
        "median_age_hours": stock.median_age_hours,
        "by_age": stock.by_age,
    }
    current["period"] = {"start": f.start, "end": f.end}
    return current


# ---- Rows of an export and lookups of the reports' own rows -------------------------------

EXPORT_CHUNK = 2000


def kpi_export_headings() -> list[str]:
    return [
        str(_("Number")),
        str(_("Kind")),
        str(_("Category")),
        str(_("Channel")),
        str(_("Status")),
        str(_("Customer")),
        str(_("Created")),
    ]


def kpi_export_rows(queryset: QuerySet, zone: ZoneInfo):
    """The rows of an export, read a chunk at a time (iterator): memory stays flat."""
    for row in queryset.iterator(chunk_size=EXPORT_CHUNK):
        yield [
            row.number,
            row.get_kind_display(),
            row.get_category_display(),
            row.get_channel_display(),
            row.get_status_display(),
            row.customer.name,
            timezone.localtime(row.created_at, zone).strftime("%Y-%m-%d %H:%M"),
        ]


def get_export_for_user(user: User, pk: int):
    """An export of the user's tenant that the user asked for; 404 otherwise."""
    if not user.is_authenticated or user.role not in REPORT_ROLES:
        raise NotFound()
    found = ExportJob.objects.filter(pk=pk, requested_by=user).first()
    if found is None:
        raise NotFound()
    return found
