"""What every view needs to know of an HTTP request that Django does not say."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: `RATELIMIT_IP_META_KEY` names where it is (REMOTE_ADDR, or the
    header the reverse proxy sets). One rule for rate limits and login lockouts alike."""
    return request.META.get(settings.RATELIMIT_IP_META_KEY) or request.META.get("REMOTE_ADDR")
