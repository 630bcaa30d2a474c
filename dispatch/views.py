"""Pages of the dispatcher: the live board."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Role
from accounts.permissions import STAFF_ROLES, role_required
from dispatch.engine.planner import REASONS
from requests_app.models import Customer, ServiceRequest
from requests_app.payloads import request_payload
from requests_app.selectors import open_requests
from technicians.models import Skill


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
