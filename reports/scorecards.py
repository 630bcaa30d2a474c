"""Reads of the technicians' scorecards (selectors, like reports.selectors): fair to the
technician — adjusted for the mix of jobs they were given, shown only above a minimum sample
with a 95 % Wilson interval, and counting only what they could control. Defined in
docs/kpis.md ("Technician scorecards")."""

from collections import defaultdict
from dataclasses import dataclass, field
from math import sqrt

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from core.errors import NotFound
from reports import selectors
from reports.models import Dispute
from reports.selectors import Cause, KpiFilter
from technicians.models import Technician, Visit

# Below this many items a rate says more about luck than about the technician.
MIN_SAMPLE = 20
Z95 = 1.959964
# Why a first visit could not fix it that were not the technician's doing.
UNCONTROLLABLE_REASONS = {
    Visit.Reason.NO_ACCESS,
    Visit.Reason.CUSTOMER_ABSENT,
    Visit.Reason.CUSTOMER_REFUSED,
    Visit.Reason.NETWORK_FAULT,
}
ITEMS = {"windows_kept": _("Windows kept"), "first_time_fix": _("First-time fix")}


def wilson(hits: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion, in percent (None without a sample)."""
    if n == 0:
        return None
    p = hits / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return round(100 * max(0.0, centre - half), 1), round(100 * min(1.0, centre + half), 1)


@dataclass(frozen=True)
class Counted:
    """One job as a scorecard counts it."""

    request_id: int
    number: str
    category: str
    technician_id: int
    territory: str
    hit: bool
    controllable: bool  # False: left out of the technician's figure (not theirs to control)
    cause: str = ""


@dataclass
class ScoreLine:
    key: str
    label: str
    n: int = 0
    hits: int = 0
    expected_hits: float = 0.0
    uncontrollable: int = 0
    against: list[Counted] = field(default_factory=list)  # the misses counted against them
    excused: list[Counted] = field(default_factory=list)  # misses a manager took off (disputes)

    @property
    def shown(self) -> bool:
        return self.n >= MIN_SAMPLE

    @property
    def percent(self) -> float | None:
        return round(100 * self.hits / self.n, 1) if self.n else None

    @property
    def expected_percent(self) -> float | None:
        return round(100 * self.expected_hits / self.n, 1) if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.hits, self.n)

    @property
    def versus_expected(self) -> float | None:
        """Percentage points above (+) or below (−) what the same jobs get across the tenant."""
        if not self.n:
            return None
        return round(100 * (self.hits - self.expected_hits) / self.n, 1)


def _number(number_in_tenant: int | None) -> str:
    return f"SR-{number_in_tenant:06d}" if number_in_tenant else "SR-new"


def _windows_counted(f: KpiFilter, tenant) -> list[Counted]:
    """Every judged window, for the technician of its last visit; a miss whose cause the
    technician could not control is not theirs."""
    definition = selectors.RATES["windows_kept"]
    last = Visit.objects.filter(request_id=OuterRef("pk")).order_by("-created_at", "-pk")
    rows = (
        definition.population(f, tenant)
        .annotate(
            worker=Subquery(last.values("technician_id")[:1]),
            area=Subquery(last.values("technician__territory")[:1]),
        )
        .filter(worker__isnull=False)
        .values(
            "pk", "number_in_tenant", "category", "worker", "area", "first_arrival", "window_end"
        )
    )
    causes = {miss.request_id: miss.cause for miss in selectors.promise_misses(f=f, tenant=tenant)}
    counted = []
    for row in rows:
        hit = row["first_arrival"] is not None and row["first_arrival"] <= row["window_end"]
        cause = "" if hit else causes.get(row["pk"], Cause.TRAVEL)
        counted.append(
            Counted(
                request_id=row["pk"],
                number=_number(row["number_in_tenant"]),
                category=row["category"],
                technician_id=row["worker"],
                territory=row["area"] or "",
                hit=hit,
                controllable=hit or cause in Cause.CONTROLLABLE,
                cause=cause,
            )
        )
    return counted


def _first_fix_counted(f: KpiFilter, tenant) -> list[Counted]:
    """Every request completed in the period, for the technician of its first arrival; a
    first visit stopped by the customer or the network is not theirs."""
    definition = selectors.RATES["first_time_fix"]
    first = Visit.objects.filter(request_id=OuterRef("pk"), arrived_at__isnull=False).order_by(
        "arrived_at"
    )
    rows = (
        definition.population(f, tenant)
        .annotate(
            worker=Subquery(first.values("technician_id")[:1]),
            area=Subquery(first.values("technician__territory")[:1]),
            first_reason=Subquery(first.values("reason")[:1]),
        )
        .filter(worker__isnull=False)
        .values(
            "pk",
            "number_in_tenant",
            "category",
            "worker",
            "area",
            "arrivals",
            "reopened",
            "first_reason",
        )
    )
    counted = []
    for row in rows:
        hit = row["arrivals"] <= 1 and not row["reopened"]
        reason = row["first_reason"] or ""
        counted.append(
            Counted(
                request_id=row["pk"],
                number=_number(row["number_in_tenant"]),
                category=row["category"],
                technician_id=row["worker"],
                territory=row["area"] or "",
                hit=hit,
                controllable=hit or reason not in UNCONTROLLABLE_REASONS,
                cause=reason,
            )
        )
    return counted


def _score(
    key: str, counted: list[Counted], technician_id: int, excused: set[tuple[int, str]]
) -> ScoreLine:
    """The technician's line: their controllable items, and what the tenant's technicians
    achieve on jobs of the same category in the same area (the expected hits)."""
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for item in counted:
        if item.controllable:
            cell = cells[(item.category, item.territory)]
            cell[0] += item.hit
            cell[1] += 1
    line = ScoreLine(key=key, label=str(ITEMS[key]))
    for item in counted:
        if item.technician_id != technician_id:
            continue
        if not item.controllable or (item.request_id, key) in excused:
            line.uncontrollable += 1  # not theirs to control, or a dispute the manager upheld
            if (item.request_id, key) in excused:
                line.excused.append(item)
            continue
        hits, n = cells[(item.category, item.territory)]
        line.n += 1
        line.hits += item.hit
        line.expected_hits += hits / n
        if not item.hit:
            line.against.append(item)
    return line


@dataclass(frozen=True)
class Scorecard:
    technician: Technician
    lines: list[ScoreLine]
    disputes: dict[tuple[int, str], Dispute]
    min_sample: int = MIN_SAMPLE


def scorecard(*, technician: Technician, f: KpiFilter, tenant) -> Scorecard:
    """The technician's scorecard for the period; a fixed number of queries."""
    disputes = {
        (d.request_id, d.kpi): d
        for d in Dispute.objects.for_tenant(tenant.pk).filter(technician=technician)
    }
    excused = {item for item, dispute in disputes.items() if dispute.upheld}
    lines = [
        _score("windows_kept", _windows_counted(f, tenant), technician.pk, excused),
        _score("first_time_fix", _first_fix_counted(f, tenant), technician.pk, excused),
    ]
    return Scorecard(technician=technician, lines=lines, disputes=disputes)


def get_scorecard_technician_for_user(user: User, technician_id: int | None) -> Technician:
    """Whose scorecard the user may read: a technician their own (whatever id they name);
    a manager or admin any technician of their tenant."""
    if not user.is_authenticated or user.tenant_id is None:
        raise NotFound()
    if user.role == Role.TECHNICIAN:
        found = Technician.objects.filter(user=user).select_related("user", "tenant").first()
        if found is None or (technician_id is not None and technician_id != found.pk):
            raise NotFound()
        return found
    if user.role not in selectors.REPORT_ROLES or technician_id is None:
        raise NotFound()
    found = (
        Technician.objects.for_tenant(user.tenant_id)
        .select_related("user", "tenant")
        .filter(pk=technician_id)
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def disputes_for_user(user: User) -> QuerySet:
    """A manager's disputes to answer (their tenant's), unanswered first."""
    if not user.is_authenticated or user.role not in selectors.REPORT_ROLES:
        return Dispute.objects.none()
    return (
        Dispute.objects.for_tenant(user.tenant_id)
        .select_related("technician__user", "request", "answered_by")
        .order_by("answered_at", "-created_at")
    )


def get_dispute_for_user(user: User, pk: int) -> Dispute:
    found = disputes_for_user(user).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found
