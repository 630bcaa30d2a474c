"""The technician's phone: the app's page (a shell the scripts fill from /api/v1/me/day/, kept
for offline use), its service worker and its web app manifest."""

import hashlib
import json

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.models import Role
from accounts.permissions import role_required
from core.errors import NotFound
from fieldwork.phone_text import phone_text
from technicians.selectors import technician_for_user

# What the service worker keeps for offline use: the page, its scripts and styles.
SHELL_STATIC = [
    "css/app.css",
    "css/phone.css",
    "img/favicon.svg",
    "vendor/idb/umd.js",
    "vendor/signature_pad/signature_pad.umd.min.js",
    "js/phone/app.js",
    "js/phone/common.js",
    "js/phone/jobs.js",
    "js/phone/outbox.js",
    "js/phone/proof.js",
]


@role_required(Role.TECHNICIAN)
def day(request: HttpRequest) -> HttpResponse:
    try:
        technician = technician_for_user(request.user)
    except NotFound:
        raise Http404 from None
    config = {
        "technician": technician.pk,
        "wsUrl": settings.WS_PUBLIC_URL,
        "sw": reverse("technician-sw"),
        "language": request.LANGUAGE_CODE,
    }
    return render(
        request,
        "technicians/day.html",
        {"technician": technician, "config": config, "text": phone_text()},
    )


def _shell_urls() -> list[str]:
    return [reverse("technician-day"), *(static(path) for path in SHELL_STATIC)]


@never_cache
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from /tech/ so that its scope is the phone's pages. Its cache is named by a hash
    of what it keeps: a new release (new static names) replaces the old cache."""
    urls = _shell_urls()
    version = hashlib.sha256(json.dumps(urls).encode()).hexdigest()[:12]
    response = render(
        request,
        "technicians/sw.js",
        {"shell": json.dumps(urls), "version": version, "day_api": "/api/v1/me/day/"},
        content_type="application/javascript",
    )
    response["Service-Worker-Allowed"] = reverse("technician-day")
    return response


def manifest(request: HttpRequest) -> JsonResponse:
    start = reverse("technician-day")
    return JsonResponse(
        {
            "name": _("Field service: my day"),
            "short_name": _("My day"),
            "start_url": start,
            "scope": start,
            "display": "standalone",
            "background_color": "#f4f5f7",
            "theme_color": "#1f5fbf",
            "icons": [{"src": static("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
        },
        content_type="application/manifest+json",
    )
