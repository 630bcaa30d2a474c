"""Pages every user meets: the home page that sends each role to its screen, and liveness."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from accounts.models import Role

HOME_BY_ROLE = {Role.TECHNICIAN: "technician-day", Role.OPERATOR: "console"}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if request.user.tenant_id is None:
        return redirect("admin:index") if request.user.is_staff else render(request, "no_role.html")
    return redirect(HOME_BY_ROLE.get(request.user.role, "board"))


def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and docker-compose: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
