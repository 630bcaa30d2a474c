"""Reads of service requests, scoped to the user's tenant and role in one place."""

from django.db.models import Min, Prefetch, QuerySet

from accounts.models import Role, User
from accounts.permissions import STAFF_ROLES
from core.errors import NotFound
from core.tenancy import every_tenant
from requests_app.models import ServiceRequest
from requests_app.states import OPEN, Status
from technicians.models import Visit


def with_active_visit(queryset: QuerySet) -> QuerySet:
    """Everything a request's list row needs, in a fixed number of queries."""
    return queryset.select_related("customer").prefetch_related(
        "required_skills",
        Prefetch(
            "visits",
            queryset=Visit.objects.filter(status__in=Visit.ACTIVE).select_related(
                "technician__user"
            ),
            to_attr="active_visits",
        ),
    )


def requests_for_user(user: User) -> QuerySet:
    if not user.is_authenticated or user.tenant_id is None:
        return ServiceRequest.objects.none()
    queryset = ServiceRequest.objects.for_tenant(user.tenant_id)
    if user.role in STAFF_ROLES:
        return queryset
    if user.role == Role.TECHNICIAN:
        return queryset.filter(visits__technician__user=user).distinct()
    return ServiceRequest.objects.none()


def get_request_for_user(user: User, pk: int) -> ServiceRequest:
    request = with_active_visit(requests_for_user(user)).filter(pk=pk).first()
    if request is None:
        raise NotFound()
    return request


def open_requests(*, tenant_id: int, limit: int = 500) -> list[ServiceRequest]:
    queryset = ServiceRequest.objects.for_tenant(tenant_id).filter(status__in=OPEN)
    return list(with_active_visit(queryset).order_by("priority", "created_at")[:limit])


def oldest_waiting_emergency_at():
    """When the oldest emergency still waiting for the engine came in (None: none waits).
    Escalated ones wait for a dispatcher, by design, and do not count. Platform-wide (readiness
    and metrics), so read across tenants."""
    with every_tenant():
        return ServiceRequest.objects.filter(
            kind=ServiceRequest.Kind.EMERGENCY, status=Status.NEW
        ).aggregate(at=Min("created_at"))["at"]
