"""The KPIs that are not rates: unproductive visits, restoration, satisfaction, workload,
backlog, channels and complaints."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone

from reports.selectors.filters import OPEN, Kind, KpiFilter
from reports.selectors.populations import (
    _completed,
    _created,
    _finished_visits,
    _requests,
    _visits_of,
)
from reports.selectors.rollup import rolled_split, rolled_sums
from requests_app.models import StatusChange
from requests_app.states import Status
from surveys.models import FollowUpCase, Response
from technicians.models import Shift, Visit

# ---- Other KPIs --------------------------------------------------------------------------


UNPRODUCTIVE_PREFIX = "unproductive:"  # the roll-up's rows: "unproductive:<reason>"
CREATED_PREFIX = "created:"  # the roll-up's rows of requests by channel: "created:<channel>"
WORK_PREFIX = "work:"  # the roll-up's workload sums (no category, no channel)


def unproductive_visits_by_reason(*, f: KpiFilter) -> dict[str, int]:
    counts: dict[str, int] = {}
    rolled, live = rolled_split(f)
    if rolled is not None:
        for key, (_hits, total) in rolled_sums(rolled, prefix=UNPRODUCTIVE_PREFIX).items():
            reason = key.removeprefix(UNPRODUCTIVE_PREFIX)
            counts[reason] = counts.get(reason, 0) + total
    if live is not None:
        rows = (
            _finished_visits(live)
            .filter(status=Visit.Status.NOT_COMPLETED)
            .values("reason")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in rows:
            reason = row["reason"] or Visit.Reason.OTHER
            counts[reason] = counts.get(reason, 0) + row["n"]
    return counts


@dataclass(frozen=True)
class Restoration:
    n: int
    median_hours: float | None
    within_sla: int


RESTORE_PREFIX = "restore:"  # the roll-up's rows: "restore:<minutes>", hits within the SLA


def time_to_restore(*, f: KpiFilter, tenant) -> Restoration:
    """Emergencies completed in the period: from the report to the completion. The days the
    roll-up holds give their restorations to the minute (each minute a row: the median needs
    them all), the rest are read live."""
    hours: list[float] = []
    within = 0
    rolled, live = rolled_split(f)
    if rolled is not None:
        for key, (hits, total) in rolled_sums(rolled, prefix=RESTORE_PREFIX).items():
            hours += [int(key.removeprefix(RESTORE_PREFIX)) / 60] * total
            within += hits
    if live is not None:
        for row in restorations(live, tenant):
            hours.append(row["seconds"] / 3600)
            within += row["within_sla"]
    return Restoration(len(hours), round(median(hours), 2) if hours else None, within)


def restorations(f: KpiFilter, tenant) -> list[dict]:
    """Each emergency completed (for the last time) in the period: {done, seconds, within_sla,
    category, channel}. The last completion overall is in the period exactly when one is in it
    and none came after: one grouped query over the period's completions (indexed), not a
    lookup per request, nor a scan of every completion since (a past period stays cheap)."""
    emergencies = _requests(f).filter(kind=Kind.EMERGENCY, status=Status.COMPLETED)
    later = StatusChange.objects.filter(
        tenant_id=f.tenant_id,
        request_id=OuterRef("request_id"),
        to_status=Status.COMPLETED,
        created_at__gte=f.end,
    )
    rows = (
        StatusChange.objects.filter(
            tenant_id=f.tenant_id,
            to_status=Status.COMPLETED,
            created_at__gte=f.start,
            created_at__lt=f.end,
            request_id__in=emergencies.values("pk"),
        )
        .exclude(Exists(later))
        .values("request_id")
        .annotate(done=Max("created_at"))
        .values_list(
            "request__created_at",
            "done",
            "request__restoration_due",
            "request__category",
            "request__channel",
        )
    )
    sla = timedelta(minutes=tenant.restoration_sla_minutes)
    return [
        {
            "done": done,
            "seconds": (done - created).total_seconds(),
            "within_sla": int(done <= (due or created + sla)),
            "category": category,
            "channel": channel,
        }
        for created, done, due, category, channel in rows
    ]


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
    if f.narrows_technicians:
        responses = responses.filter(f.technicians_q())
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
    technician-day, over the shifts that started in the period and the visits in them: the
    roll-up's days summed (to the second), the rest live."""
    sums = dict.fromkeys(WORK_FIGURES, 0.0)
    rolled, live = rolled_split(f)
    if rolled is not None:
        for key, (_hits, total) in rolled_sums(rolled, prefix=WORK_PREFIX, cells=False).items():
            sums[key.removeprefix(WORK_PREFIX)] += total
    if live is not None:
        for name, value in workload_sums(shifts_of(live), arrivals_of(live)).items():
            sums[name] += value
    return Workload(
        shift_minutes=max(int(sums["shift_seconds"] // 60) - int(sums["lunch_minutes"]), 0),
        work_minutes=int(sums["work_seconds"] // 60),
        travel_minutes=int(sums["travel_seconds"] // 60),
        technician_days=int(sums["technician_days"]),
        jobs_completed=int(sums["jobs_completed"]),
    )


WORK_FIGURES = (
    "shift_seconds",
    "lunch_minutes",
    "technician_days",
    "work_seconds",
    "travel_seconds",
    "jobs_completed",
)


def shifts_of(f: KpiFilter) -> QuerySet:
    shifts = Shift.objects.for_tenant(f.tenant_id).filter(start__gte=f.start, start__lt=f.end)
    if f.narrows_technicians:
        shifts = shifts.filter(f.technicians_q())
    return shifts


def arrivals_of(f: KpiFilter) -> QuerySet:
    return Visit.objects.for_tenant(f.tenant_id).filter(
        _visits_of(f), arrived_at__gte=f.start, arrived_at__lt=f.end
    )


def shift_sums() -> dict:
    length = ExpressionWrapper(F("end") - F("start"), output_field=DurationField())
    return {
        "shift_seconds": Sum(length),
        "lunch_minutes": Sum("lunch_minutes"),
        "technician_days": Count("pk"),
    }


def arrival_sums() -> dict:
    work = ExpressionWrapper(F("finished_at") - F("arrived_at"), output_field=DurationField())
    travel = ExpressionWrapper(F("arrived_at") - F("en_route_at"), output_field=DurationField())
    return {
        "work_seconds": Sum(work, filter=Q(finished_at__isnull=False)),
        "travel_seconds": Sum(travel, filter=Q(en_route_at__isnull=False)),
        "jobs_completed": Count("pk", filter=Q(status=Visit.Status.COMPLETED)),
    }


def as_numbers(row: dict) -> dict[str, float]:
    """Durations as seconds, missing sums as 0."""
    out = {}
    for name in WORK_FIGURES:
        if name not in row:
            continue
        value = row[name]
        out[name] = value.total_seconds() if hasattr(value, "total_seconds") else (value or 0)
    return out


def workload_sums(shifts: QuerySet, arrivals: QuerySet) -> dict[str, float]:
    return {
        **as_numbers(shifts.aggregate(**shift_sums())),
        **as_numbers(arrivals.aggregate(**arrival_sums())),
    }


@dataclass(frozen=True)
class Backlog:
    open: int
    median_age_hours: float | None
    by_age: dict[str, int]


AGE_BUCKETS = (("lt_1d", 1), ("1_3d", 3), ("3_7d", 7), ("gt_7d", None))


def backlog(*, f: KpiFilter, now: datetime | None = None) -> Backlog:
    """Requests open now (not completed, not cancelled) and how long they have waited: one
    aggregate row, whatever the number open (the median of the ages is the age of the median
    creation time, interpolated between the middle two as `statistics.median` does)."""
    now = now or timezone.now()
    age_under = {
        name: Count("pk", filter=Q(created_at__gt=now - timedelta(days=days)))
        for name, days in AGE_BUCKETS
        if days
    }
    row = (
        _requests(f)
        .filter(status__in=OPEN)
        .aggregate(open=Count("pk"), middle=MedianEpoch("created_at"), **age_under)
    )
    by_age, below = {}, 0
    for name, days in AGE_BUCKETS:
        within = row[name] if days else row["open"]
        by_age[name] = within - below
        below = within
    middle = row["middle"]
    age = round((now.timestamp() - middle) / 3600, 1) if middle is not None else None
    return Backlog(row["open"], age, by_age)


class MedianEpoch(Aggregate):
    """The median of a timestamp column, as seconds since the epoch (PostgreSQL's
    percentile_cont interpolates between the middle two values)."""

    function = "percentile_cont"
    template = "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM %(expressions)s))"
    output_field = FloatField()


def requests_by_channel(*, f: KpiFilter) -> dict[str, int]:
    counts: dict[str, int] = {}
    rolled, live = rolled_split(f)
    if rolled is not None:
        for key, (_hits, total) in rolled_sums(rolled, prefix=CREATED_PREFIX).items():
            channel = key.removeprefix(CREATED_PREFIX)
            counts[channel] = counts.get(channel, 0) + total
    if live is not None:
        for row in _created(live).values("channel").annotate(n=Count("pk")).order_by():
            counts[row["channel"]] = counts.get(row["channel"], 0) + row["n"]
    return dict(sorted(counts.items()))


def _complaints(f: KpiFilter) -> QuerySet:
    cases = FollowUpCase.objects.for_tenant(f.tenant_id).filter(
        created_at__gte=f.start, created_at__lt=f.end
    )
    if f.narrows_technicians or f.category or f.channel:
        cases = cases.filter(request__in=_requests(f).values("pk"))
    return cases


@dataclass(frozen=True)
class Complaints:
    opened: int
    still_open: int
    per_1000_completed: float | None


def complaints(*, f: KpiFilter, tenant, completed: int | None = None) -> Complaints:
    """Follow-up cases opened in the period (a low survey score tied to a request), per 1,000
    requests completed (`completed`: the first-time fix's population, when the caller has it)."""
    counts = _complaints(f).aggregate(
        opened=Count("pk"), still_open=Count("pk", filter=Q(status=FollowUpCase.Status.OPEN))
    )
    if completed is None:
        completed = _completed(f).count()
    rate = round(1000 * counts["opened"] / completed, 1) if completed else None
    return Complaints(counts["opened"], counts["still_open"], rate)
