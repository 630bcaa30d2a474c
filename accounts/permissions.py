"""Role checks shared by pages (decorator) and the API (DRF permission class)."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission

from accounts.models import Role

STAFF_ROLES = (Role.DISPATCHER, Role.MANAGER, Role.OPERATOR, Role.ADMIN)
DISPATCH_ROLES = (Role.DISPATCHER, Role.ADMIN)
INTAKE_ROLES = (Role.DISPATCHER, Role.OPERATOR, Role.ADMIN)


def role_required(*roles: str) -> Callable:
    """Page decorator: login first, then the user's role must be one of `roles`."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_role(*roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class HasRole(BasePermission):
    """API permission: `permission_classes = [HasRole.of(Role.DISPATCHER, ...)]`."""

    roles: tuple[str, ...] = ()

    @classmethod
    def of(cls, *roles: str) -> type["HasRole"]:
        return type(f"HasRole_{'_'.join(roles)}", (cls,), {"roles": roles})

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_role(*self.roles))


def tenants_served(user) -> list:
    """The clients a user may take contacts for: their own tenant, and for contact-center
    operators the other clients they answer for."""
    if not user.is_authenticated or user.tenant_id is None:
        return []
    served = [user.tenant]
    if user.role in INTAKE_ROLES:
        served += [t for t in user.clients.order_by("name") if t.pk != user.tenant_id]
    return served
