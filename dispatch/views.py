"""Pages of the dispatcher: the live board."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from accounts.models import Role
from accounts.permissions import STAFF_ROLES, role_required
from dispatch.engine.planner import REASONS
from requests_app.models import Customer, ServiceRequest
from requests_app.payloads import request_payload
from requests_app.selectors import open_requests
from technicians.models import Skill

HOME_BY_ROLE = {Role.TECHNICIAN: "technician-day", Role.OPERATOR: "console"}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if request.user.tenant_id is None:
        return redirect("admin:index") if request.user.is_staff else render(request, "no_role.html")
    return redirect(HOME_BY_ROLE.get(request.user.role, "board"))


@role_required(*STAFF_ROLES)
def board(request: HttpRequest) -> HttpResponse:
    tenant = request.user.tenant
    requests = open_requests(tenant_id=tenant.pk)
    context = {
        "initial": {
            "last_seq": tenant.event_seq,
            "requests": [request_payload(r) for r in requests],
        },
        # Live events are written by workers in no one's language: the board shows codes in its
        # reader's language with these.
        "labels": {
            "status": {value: str(label) for value, label in ServiceRequest.Status.choices},
            "category": {value: str(label) for value, label in ServiceRequest.Category.choices},
            "plan_note": {str(code): str(text) for code, text in REASONS.items()},
        },
        "ws_url": settings.WS_PUBLIC_URL,
        "customers": Customer.objects.for_tenant(tenant).filter(lat__isnull=False)[:200],
        "skills": Skill.objects.for_tenant(tenant),
        "categories": ServiceRequest.Category.choices,
        "can_create": request.user.role in (Role.DISPATCHER, Role.OPERATOR, Role.ADMIN),
    }
    return render(request, "dispatch/board.html", context)


def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and docker-compose: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
