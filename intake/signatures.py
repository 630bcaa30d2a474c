"""Webhook signatures, as each contact point's provider signs them (`ContactPoint.signature`):

- **HMAC** (custom gateways): `X-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`. It
  covers the raw bytes as sent, so nothing the provider did not sign is read before it is
  checked.
- **Twilio** (SMS and voice): `X-Twilio-Signature`, checked by Twilio's own `RequestValidator`
  over the public URL Twilio called and the posted fields, with `TWILIO_AUTH_TOKEN`.

The address the message was sent to ("To") says which contact point, and so which scheme, may
sign it: a request signed another way is refused. An empty secret refuses everything: a
forgotten setting must not open the door.
"""

import hashlib
import hmac
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited
from twilio.request_validator import RequestValidator

from accounts.models import ContactPoint
from intake.contacts import contact_point
from intake.limits import ratelimited

HEADER = "X-Signature"
TWILIO_HEADER = "X-Twilio-Signature"
PREFIX = "sha256="
# A form that cannot be read (a broken body, an unknown charset).
UNREADABLE = (LookupError, UnicodeDecodeError, MultiPartParserError, BadRequest)


def signature_for(secret: str, body: bytes) -> str:
    """The header value a provider sends with `body`."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(*, secret: str, body: bytes, header: str | None) -> bool:
    # Non-ASCII text cannot be a hex digest, and compare_digest refuses it with a TypeError.
    if not secret or not header or not header.isascii():
        return False
    return hmac.compare_digest(signature_for(secret, body).encode(), header.strip().encode())


def twilio_valid(request: HttpRequest) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    header = request.headers.get(TWILIO_HEADER)
    if not token or not header:
        return False
    url = settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
    try:
        return RequestValidator(token).validate(url, request.POST, header)
    except UNREADABLE:
        return False


def _scheme_for(request: HttpRequest, kind: str | None) -> str:
    """The signature the contact point the message was sent to expects (HMAC when unknown:
    the inbound service then refuses an unknown address on its own)."""
    if kind is None:
        return ContactPoint.Signature.HMAC
    try:
        to = request.POST.get("To", "")
    except UNREADABLE:
        return ContactPoint.Signature.HMAC  # the view refuses the form with a 400
    point = contact_point(kind, to)
    return point.signature if point else ContactPoint.Signature.HMAC


def signed(secret_setting: str, *, kind: str | None = None) -> Callable:
    """Refuse a request (403, nothing written) unless signed as its contact point expects:
    HMAC with that setting's secret, or Twilio's signature for a Twilio contact point of
    `kind` (form posts: SMS, voice). Secrets are read on every request, so a rotated setting
    applies at once. Refusals are counted per address and, past `WEBHOOK_REFUSED_RATE`,
    answered 429: the signature is checked first, so forgeries never use up the limit of a
    provider's signed messages."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if TWILIO_HEADER in request.headers and kind is not None:
                valid = twilio_valid(request)
                expected = ContactPoint.Signature.TWILIO
            else:
                valid = signature_valid(
                    secret=getattr(settings, secret_setting, ""),
                    body=request.body,
                    header=request.headers.get(HEADER),
                )
                expected = ContactPoint.Signature.HMAC
            if not valid or _scheme_for(request, kind) != expected:
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
