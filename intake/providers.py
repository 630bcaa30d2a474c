"""Inbound e-mail from the common providers (Mailgun, SendGrid, Postmark, …) through
django-anymail: its webhook views check each provider's own signature (and the shared basic-auth
secret, ANYMAIL_WEBHOOK_SECRET), and hand the message here as MIME, where it takes the same path
as a raw e-mail (`inbound.email_receive`)."""

import logging

from core.errors import DomainError
from intake import inbound

log = logging.getLogger(__name__)


def email_from_provider(sender, event, esp_name: str, **kwargs) -> None:
    """Receiver of anymail's `inbound` signal. A message refused by a rule (an unknown
    address, a replay) is logged and answered 200, so the provider does not retry it."""
    try:
        received = inbound.email_receive(raw=event.message.as_bytes())
    except DomainError as error:
        log.info("inbound e-mail via %s refused: %s", esp_name, error.message)
        return
    log.info("inbound e-mail via %s: %s", esp_name, received.outcome)
