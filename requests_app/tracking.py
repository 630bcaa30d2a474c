"""Customer links: a tracking page per request, reached with an unguessable, expiring token.

The token signs the request's random `tracking_key` (128 bits) and the time it was made, with
the secret key (HMAC, salted for this purpose): it cannot be guessed or forged, it names no id
(so it tells nothing about the request or the client's volume), and it expires after
`TRACKING_LINK_DAYS`.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from core.errors import NotFound
from core.tenancy import every_tenant
from requests_app.models import ServiceRequest

SALT = "requests.tracking.v2"


class LinkExpired(NotFound):
    code = "link_expired"

    def __init__(self, service_request: ServiceRequest | None):
        self.service_request = service_request
        super().__init__()


def tracking_token(service_request: ServiceRequest) -> str:
    return signing.dumps(service_request.tracking_key, salt=SALT)


def request_for_token(token: str) -> ServiceRequest:
    """The request a tracking link points to; a bad or altered token reads as not found, an
    expired one as `LinkExpired` (naming the request, so the page can say whom to call)."""
    max_age = settings.TRACKING_LINK_DAYS * 24 * 3600
    try:
        key = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkExpired(_find(signing.loads(token, salt=SALT))) from None
    except signing.BadSignature:
        raise NotFound() from None
    service_request = _find(key)
    if service_request is None:
        raise NotFound()
    return service_request


def _find(key) -> ServiceRequest | None:
    """The request a key names, whichever tenant's: the link is all a customer has."""
    if not isinstance(key, str):
        return None
    with every_tenant():
        return (
            ServiceRequest.objects.select_related("tenant", "customer")
            .filter(tracking_key=key)
            .first()
        )


def tracking_url(service_request: ServiceRequest) -> str:
    path = reverse("portal-track", kwargs={"token": tracking_token(service_request)})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path
