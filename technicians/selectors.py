"""Reads for technicians, scoped in one place."""

from datetime import date

from django.db.models import QuerySet

from accounts.models import Role, User
from core.errors import NotFound
from technicians.models import Technician, Visit


def technician_for_user(user: User) -> Technician:
    if not user.has_role(Role.TECHNICIAN):
        raise NotFound()
    technician = Technician.objects.filter(user=user, tenant_id=user.tenant_id).first()
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
