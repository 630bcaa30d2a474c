"""Reads for technicians, scoped in one place."""

from datetime import date, datetime, time, timedelta

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from accounts.models import Role, User
from core.errors import NotFound
from technicians.models import Absence, Shift, Technician, Visit

# Who reads the crew: the board's users (dispatchers, managers, the client's administrator).
ROSTER_ROLES = (Role.DISPATCHER, Role.MANAGER, Role.ADMIN)


def technician_for_user(user: User) -> Technician:
    if not user.has_role(Role.TECHNICIAN):
        raise NotFound()
    technician = (
        Technician.objects.filter(user=user, tenant_id=user.tenant_id)
        .select_related("user")
        .first()
    )
    if technician is None:
        raise NotFound()
    return technician


def visits_of_day(*, technician: Technician, day: date) -> QuerySet:
    return (
        Visit.objects.for_tenant(technician.tenant_id)
        .filter(technician=technician, planned_start__date=day)
        .exclude(status=Visit.Status.CANCELLED)
        .select_related("request__customer")
        .order_by("planned_start")
    )


def get_visit_for_user(user: User, pk: int) -> Visit:
    """A technician reaches only their own visits; dispatchers any visit of their tenant."""
    if not user.is_authenticated or user.tenant_id is None:
        raise NotFound()
    queryset = Visit.objects.for_tenant(user.tenant_id).select_related("request", "technician")
    if user.role == Role.TECHNICIAN:
        queryset = queryset.filter(technician__user=user)
    elif user.role not in (Role.DISPATCHER, Role.ADMIN):
        raise NotFound()
    visit = queryset.filter(pk=pk).first()
    if visit is None:
        raise NotFound()
    return visit


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day in the active time zone (the user's tenant's: TenantTimezoneMiddleware)."""
    start = datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
    return start, start + timedelta(days=1)


def technicians_for_user(user: User, *, day: date) -> QuerySet:
    """The user's tenant's technicians, each with their skills and that day's shifts and
    absences (`shifts_of_day`, `absences_of_day`): four statements, however many."""
    if not user.has_role(*ROSTER_ROLES):
        raise NotFound()
    start, end = _day_bounds(day)
    return (
        Technician.objects.for_tenant(user.tenant_id)
        .select_related("user")
        .prefetch_related(
            "skills",
            Prefetch(
                "shifts",
                queryset=Shift.objects.filter(start__lt=end, end__gt=start).order_by("start"),
                to_attr="shifts_of_day",
            ),
            Prefetch(
                "absences",
                queryset=Absence.objects.filter(start__lt=end, end__gt=start).order_by("start"),
                to_attr="absences_of_day",
            ),
        )
        .order_by("user__last_name", "user__first_name", "pk")
    )


def get_technician_for_user(user: User, pk: int, *, day: date) -> Technician:
    technician = technicians_for_user(user, day=day).filter(pk=pk).first()
    if technician is None:
        raise NotFound()
    return technician
