"""The customer's links for one visit: the live arrival page (from "on my way" until an hour
after the visit ends) and the service report (for REPORT_LINK_DAYS after the job).

Like the tracking link (`requests_app.tracking`), a token signs the request's random
`tracking_key` with the visit's id, salted per purpose: it cannot be guessed, forged or used
for another visit, and names no id a customer could change.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from core.errors import NotFound
from core.tenancy import every_tenant
from requests_app.tracking import LinkExpired
from technicians.models import Visit

LIVE_SALT = "fieldwork.live.v1"
REPORT_SALT = "fieldwork.report.v1"
# The live page ends this long after the visit does.
LIVE_AFTER_END = timedelta(hours=1)
# A live link is never older than this, whatever the visit's times (a signature bound).
LIVE_MAX_AGE = timedelta(days=3)


def _token(visit: Visit, salt: str) -> str:
    return signing.dumps([visit.request.tracking_key, visit.pk], salt=salt, compress=True)


def live_url(visit: Visit) -> str:
    path = reverse("customer-live", kwargs={"token": _token(visit, LIVE_SALT)})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def report_url(visit: Visit) -> str:
    path = reverse("service-report", kwargs={"token": _token(visit, REPORT_SALT)})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def live_ends_at(visit: Visit):
    """An hour after the visit ends (when it finished, else when it is planned to); a
    cancelled visit's link has ended."""
    if visit.status == Visit.Status.CANCELLED:
        return visit.updated_at
    return (visit.finished_at or visit.planned_end) + LIVE_AFTER_END


def visit_for_live_token(token: str, *, now=None) -> Visit:
    visit = _visit(token, LIVE_SALT, LIVE_MAX_AGE)
    if (now or timezone.now()) >= live_ends_at(visit):
        raise LinkExpired(visit.request)
    return visit


def visit_for_report_token(token: str) -> Visit:
    return _visit(token, REPORT_SALT, timedelta(days=settings.REPORT_LINK_DAYS))


def _visit(token: str, salt: str, max_age: timedelta) -> Visit:
    try:
        key, visit_id = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkExpired(None) from None
    except (signing.BadSignature, TypeError, ValueError):
        raise NotFound() from None
    if not isinstance(key, str) or type(visit_id) is not int:
        raise NotFound()
    with every_tenant():  # the link is all a customer has: found across tenants, then scoped
        visit = (
            Visit.objects.select_related("request__tenant", "request__customer", "technician__user")
            .filter(pk=visit_id, request__tracking_key=key)
            .first()
        )
    if visit is None:
        raise NotFound()
    return visit
