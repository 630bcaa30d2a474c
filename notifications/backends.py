"""Delivery backends. `NOTIFY_SMS_BACKEND` / e-mail through Django's EMAIL_BACKEND."""

import json
import logging
import urllib.request

from django.conf import settings
from django.core.mail import send_mail

log = logging.getLogger(__name__)


class DeliveryError(RuntimeError):
    pass


def send_email(*, recipient: str, subject: str, body: str, key: str) -> None:
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient], fail_silently=False)


def send_sms_console(*, recipient: str, body: str, key: str) -> None:
    log.info("SMS to %s [%s]: %s", recipient, key, body)


def send_sms_http(*, recipient: str, body: str, key: str) -> None:
    """A generic HTTP SMS gateway: POST JSON, with the outbox key for the gateway's dedupe."""
    payload = json.dumps({"to": recipient, "text": body, "id": key}).encode()
    request = urllib.request.Request(  # noqa: S310 — the operator's configured gateway URL
        settings.SMS_GATEWAY_URL,
        data=payload,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}",
            "Idempotency-Key": key,
        },
    )
    try:
        # The gateway URL is the operator's own setting, not user input.
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            if response.status >= 300:
                raise DeliveryError(f"gateway answered {response.status}")
    except OSError as error:
        raise DeliveryError(str(error)) from error


SMS_BACKENDS = {"console": send_sms_console, "http": send_sms_http}
