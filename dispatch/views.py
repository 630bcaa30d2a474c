"""Pages of the dispatcher: the live board."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Role
from accounts.permissions import DISPATCH_ROLES, STAFF_ROLES, role_required
from dispatch.board_text import board_text
from dispatch.engine.planner import REASONS
from requests_app.models import Customer, ServiceRequest
from technicians.models import Skill, Technician


@role_required(*STAFF_ROLES)
def board(request: HttpRequest) -> HttpResponse:
    """The page itself; its data comes from the board API (queue, timeline, drawer) and the
    event feed, so a reload and a catch-up read the same things."""
    tenant = request.user.tenant
    text = board_text()
    text["plan_note"] = {str(code): str(label) for code, label in REASONS.items()}
    context = {
        "board": {
            "last_seq": tenant.event_seq,
            "time_zone": tenant.time_zone,
            "ws_url": settings.WS_PUBLIC_URL,
            "tiles": settings.MAP_TILE_URL,
            "attribution": settings.MAP_ATTRIBUTION,
            "can_dispatch": request.user.role in DISPATCH_ROLES,
            "user": request.user.get_full_name() or request.user.username,
        },
        "text": text,
        "customers": Customer.objects.for_tenant(tenant).filter(lat__isnull=False)[:200],
        "skills": Skill.objects.for_tenant(tenant),
        "technicians": Technician.objects.for_tenant(tenant)
        .filter(active=True)
        .select_related("user")
        .order_by("user__first_name", "user__last_name"),
        "territories": Technician.objects.for_tenant(tenant)
        .filter(active=True)
        .exclude(territory="")
        .values_list("territory", flat=True)
        .distinct()
        .order_by("territory"),
        "categories": ServiceRequest.Category.choices,
        "kinds": ServiceRequest.Kind.choices,
        "statuses": [
            (value, label)
            for value, label in ServiceRequest.Status.choices
            if value not in ("completed", "cancelled")
        ],
        "channels": ServiceRequest.Channel.choices,
        "can_create": request.user.role in (Role.DISPATCHER, Role.OPERATOR, Role.ADMIN),
    }
    return render(request, "dispatch/board.html", context)
