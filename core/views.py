"""Pages every user meets: the home page that sends each role to its screen, health for load
balancers, and the answers when something fails."""

import sys

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from accounts.models import Role
from core import health
from core.dependencies import (
    RETRY_AFTER_SECONDS,
    generic_error,
    is_dependency_down,
    unavailable,
)

HOME_BY_ROLE = {Role.TECHNICIAN: "technician-day", Role.OPERATOR: "console"}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if request.user.tenant_id is None:
        return redirect("admin:index") if request.user.is_staff else render(request, "no_role.html")
    return redirect(HOME_BY_ROLE.get(request.user.role, "board"))


def live(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers (nothing else is asked, so a restart fixes what fails)."""
    return JsonResponse({"status": "ok"})


def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: the database and Redis answer, beat rings, no emergency waits too long; 503
    with each check's detail when not."""
    ok, checks = health.readiness()
    response = JsonResponse({"status": "ok" if ok else "not ready", "checks": checks})
    if not ok:
        response.status_code = 503
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """`handler500`: a dependency that is down (the database, Redis) is a 503 the client may
    retry, anything else a 500; both with a short generic body, JSON for the API."""
    error = sys.exc_info()[1]
    return unavailable(request) if is_dependency_down(error) else generic_error(request, 500)
