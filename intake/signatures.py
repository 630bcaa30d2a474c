"""Webhook signatures: `X-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`.

The signature covers the raw bytes as sent, before any parsing, so nothing the provider did not
sign is ever read. An empty secret refuses everything: a forgotten setting must not open the door.
"""

import hashlib
import hmac
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

from intake.limits import ratelimited

HEADER = "X-Signature"
PREFIX = "sha256="


def signature_for(secret: str, body: bytes) -> str:
    """The header value a provider sends with `body`."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(*, secret: str, body: bytes, header: str | None) -> bool:
    # Non-ASCII text cannot be a hex digest, and compare_digest refuses it with a TypeError.
    if not secret or not header or not header.isascii():
        return False
    return hmac.compare_digest(signature_for(secret, body).encode(), header.strip().encode())


def signed(secret_setting: str) -> Callable:
    """Refuse a request (403, nothing read or written) unless signed with that setting's secret.
    The secret is read on every request, so a rotated setting applies at once. Refusals are
    counted per address and, past `WEBHOOK_REFUSED_RATE`, answered 429: the signature is checked
    first, so forgeries never use up the limit of a provider's signed messages."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            secret = getattr(settings, secret_setting, "")
            if not signature_valid(
                secret=secret, body=request.body, header=request.headers.get(HEADER)
            ):
                if _refusals_over_limit(request):
                    return ratelimited(request, None)
                return HttpResponse(
                    _("Invalid or missing signature."),
                    status=403,
                    content_type="text/plain; charset=utf-8",
                )
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _refusals_over_limit(request: HttpRequest) -> bool:
    return is_ratelimited(
        request,
        group="webhook-refused",
        key="ip",
        rate=settings.WEBHOOK_REFUSED_RATE,
        increment=True,
    )
