"""Rate limits of the public endpoints (portal, webhooks), per client address."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _


def portal_rate(group, request) -> str:
    return settings.PORTAL_RATE


def webhook_rate(group, request) -> str:
    return settings.WEBHOOK_RATE


def ratelimited(request: HttpRequest, exception) -> HttpResponse:
    """What a client over its limit gets: 429, never a page of its own work."""
    return HttpResponse(
        _("Too many requests: please wait a minute and try again."),
        status=429,
        content_type="text/plain; charset=utf-8",
        headers={"Retry-After": "60"},
    )
