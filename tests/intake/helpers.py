"""Helpers of the inbound-channel tests: the tenant's addresses, signed posts, booked visits."""

import re
from datetime import timedelta
from urllib.parse import urlencode

from django.utils import timezone

from accounts.models import ContactPoint
from intake.signatures import signature_for
from requests_app.models import ServiceRequest
from requests_app.tracking import request_for_token
from technicians.models import Visit
from tests.factories import RequestFactory

SMS_SECRET = "sms-secret-for-tests"
IVR_SECRET = "ivr-secret-for-tests"
EMAIL_SECRET = "email-secret-for-tests"
SMS_NUMBER = "1414"
IVR_NUMBER = "+77272000000"
EMAIL_ADDRESS = "help@almaty-telecom.kz"


def inbound_setup(settings, tenant) -> None:
    """Secrets, public links and the tenant's addresses. Each module applies it with its own
    fixture: a conftest here would reach the other intake tests too."""
    settings.SMS_WEBHOOK_SECRET = SMS_SECRET
    settings.IVR_WEBHOOK_SECRET = IVR_SECRET
    settings.EMAIL_WEBHOOK_SECRET = EMAIL_SECRET
    settings.PUBLIC_BASE_URL = "https://dispatch.example"
    # The limit counts in a cache shared by all tests; the rate-limit test switches it on.
    settings.RATELIMIT_ENABLE = False
    # Replies are asserted in English: they are written in the tenant's language.
    tenant.language = "en"
    tenant.save(update_fields=["language"])
    for kind, address in (
        (ContactPoint.Kind.SMS, SMS_NUMBER),
        (ContactPoint.Kind.PHONE, IVR_NUMBER),
        (ContactPoint.Kind.EMAIL, EMAIL_ADDRESS),
    ):
        ContactPoint.objects.create(tenant=tenant, kind=kind, address=address)


def visit_in(tenant, customer, technician, *, hours: float) -> ServiceRequest:
    """A planned request whose agreed window starts `hours` from now, with its visit booked."""
    start = (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)
    return booked_visit(tenant, customer, technician, start)


def booked_visit(tenant, customer, technician, start) -> ServiceRequest:
    request = RequestFactory(
        tenant=tenant,
        customer=customer,
        status=ServiceRequest.Status.ASSIGNED,
        window_start=start,
        window_end=start + timedelta(hours=2),
    )
    Visit.objects.create(
        tenant=tenant,
        request=request,
        technician=technician,
        planned_start=start + timedelta(minutes=30),
        planned_end=start + timedelta(minutes=90),
    )
    return request


def signed_post(client, url, body: bytes, secret: str, *, content_type: str, signature=None):
    return client.post(
        url,
        data=body,
        content_type=content_type,
        headers={"X-Signature": signature_for(secret, body) if signature is None else signature},
    )


def form_post(client, url, fields: dict, secret: str, **kwargs):
    body = urlencode(fields).encode()
    return signed_post(
        client, url, body, secret, content_type="application/x-www-form-urlencoded", **kwargs
    )


def tracked_in(text: str, *, query: str = "") -> ServiceRequest | None:
    """The request whose tracking link (with `query`, e.g. "?change=1") `text` carries.

    Tokens are timestamped, so a link made a second later differs: compare what it opens."""
    match = re.search(r"https://dispatch\.example/t/([\w:-]+)/" + re.escape(query), text)
    return request_for_token(match.group(1)) if match else None
