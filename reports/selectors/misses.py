"""Promise misses and their causes (docs/kpis.md, "Promise misses: the cause")."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    OuterRef,
    Subquery,
)

from accounts.models import Role
from reports.models import PromiseRisk
from reports.selectors.filters import BREAK_IN_LEAD, Kind, KpiFilter
from reports.selectors.rates import RATES, _split
from reports.selectors.rollup import rolled_split, rolled_sums
from requests_app.models import StatusChange
from requests_app.states import Status
from technicians.models import Absence, Visit

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
    category: str = ""
    channel: str = ""


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
            "category",
            "channel",
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
    facts = _Facts(absences, emergencies, previous, changes)
    return [
        PromiseMiss(
            request_id=row["pk"],
            number=f"SR-{row['number_in_tenant']:06d}" if row["number_in_tenant"] else "SR-new",
            technician_id=row["visit_technician"],
            window_end=row["window_end"],
            first_arrival=row["first_arrival"],
            cause=recorded.get((row["pk"], row["window_end"])) or _cause(row, facts),
            category=row["category"],
            channel=row["channel"],
        )
        for row in missed
    ]


class _Facts:
    """The rows the rules read, grouped by technician (and changes by request), so explaining
    a month of misses looks at each technician's own rows, not at everyone's."""

    def __init__(self, absences, emergencies, previous, changes):
        self.absences = _grouped(absences, "technician_id")
        self.emergencies = _grouped(emergencies, "technician_id")
        self.previous = _grouped(previous, "technician_id")
        self.changes = _grouped(changes, "request_id")


def _grouped(rows, key) -> dict:
    out: dict = {}
    for row in rows:
        out.setdefault(row[key], []).append(row)
    return out


def _cause(row, facts: _Facts) -> str:
    technician = row["visit_technician"]
    opens, closes = row["window_start"] - BREAK_IN_LEAD, row["window_end"]
    if technician is None:
        return Cause.NOT_ASSIGNED
    if any(
        a["start"] < closes and a["end"] > row["window_start"]
        for a in facts.absences.get(technician, ())
    ):
        return Cause.TECHNICIAN_ABSENT
    if any(opens <= e["planned_start"] < closes for e in facts.emergencies.get(technician, ())):
        return Cause.EMERGENCY_BREAK_IN
    late_changes = [
        c for c in facts.changes.get(row["pk"], ()) if opens <= c["created_at"] < closes
    ]
    if any(c["actor__role"] in (Role.DISPATCHER, Role.ADMIN) for c in late_changes):
        return Cause.DISPATCHER_CHANGE
    if any(c["to_status"] == Status.RESCHEDULED for c in late_changes):
        return Cause.CUSTOMER_RESCHEDULED
    leave_by = (row["visit_start"] or closes) - timedelta(minutes=row["visit_travel"] or 0)
    before = [
        p
        for p in facts.previous.get(technician, ())
        if p["planned_start"] < (row["visit_start"] or closes)
        and p["planned_start"].date() == (row["visit_start"] or closes).date()
    ]
    if any(p["finished_at"] > p["planned_end"] and p["finished_at"] > leave_by for p in before):
        return Cause.PREVIOUS_JOB_OVERRAN
    return Cause.TRAVEL


MISS_PREFIX = "miss:"  # the roll-up's rows of promise misses: "miss:<cause>"


def promise_misses_by_cause(*, f: KpiFilter, tenant) -> dict[str, int]:
    """The misses of the days the roll-up holds summed, the rest (today at least) explained
    live; all live when narrowed to a technician or territory."""
    counts = dict.fromkeys(Cause.LABELS, 0)
    rolled, live = rolled_split(f)
    if rolled is not None:
        for key, (_hits, total) in rolled_sums(rolled, prefix=MISS_PREFIX).items():
            cause = key.removeprefix(MISS_PREFIX)
            if cause in counts:
                counts[cause] += total
    if live is not None:
        for miss in promise_misses(f=live, tenant=tenant):
            counts[miss.cause] += 1
    return counts
