"""Customer links: a tracking page per request, reached with an unguessable signed token.

The token is the request id signed with the secret key (HMAC, salted for this purpose); it
cannot be guessed or forged, and it carries no personal data.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from core.errors import NotFound
from requests_app.models import ServiceRequest

SALT = "requests.tracking"


def tracking_token(request: ServiceRequest) -> str:
    return signing.dumps({"r": request.pk, "t": request.tenant_id}, salt=SALT, compress=True)


def request_for_token(token: str) -> ServiceRequest:
    """The request a tracking link points to; a bad or altered token reads as not found."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise NotFound() from None
    request = (
        ServiceRequest.objects.select_related("tenant", "customer")
        .filter(pk=data.get("r"), tenant_id=data.get("t"))
        .first()
    )
    if request is None:
        raise NotFound()
    return request


def tracking_url(request: ServiceRequest) -> str:
    path = reverse("portal-track", kwargs={"token": tracking_token(request)})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path
