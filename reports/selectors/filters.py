"""Who may read a report, and what it is about: the tenant, the period and the narrowing."""

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, Tenant, User
from accounts.permissions import tenants_served
from core.errors import NotFound
from requests_app.models import ServiceRequest
from requests_app.states import Status

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
    team_id: int | None = None
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
    def narrows_technicians(self) -> bool:
        """Narrowed to some technicians (one, a territory, a team): the roll-up, kept by
        category and channel only, cannot answer."""
        return bool(self.technician_id or self.territory or self.team_id)

    def technicians_q(self, path: str = "technician") -> Q:
        """Rows whose technician (at `path`) is one the filter names."""
        q = Q()
        if self.technician_id:
            q &= Q(**{f"{path}_id": self.technician_id})
        if self.territory:
            q &= Q(**{f"{path}__territory": self.territory})
        if self.team_id:
            q &= Q(**{f"{path}__team_id": self.team_id})
        return q

    @property
    def until(self) -> datetime:
        """The end of the period, never later than now (a window still open is not judged)."""
        return min(self.end, timezone.now())


def kpi_filter_for(*, tenant: Tenant, first: date, last: date, **narrowing) -> KpiFilter:
    return KpiFilter.for_days(tenant=tenant, first=first, last=last, **narrowing)
