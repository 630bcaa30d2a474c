"""The window picker shared by the console and the portal: offers for a job, and the choice."""

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Tenant
from dispatch.windows import JobToBook, Offer, windows_offered


def offers_for(
    tenant: Tenant,
    *,
    point,
    minutes: int,
    skills=frozenset(),
    days: int | None = None,
    current: datetime | None = None,
) -> list[Offer]:
    """Windows to offer, without the `current` one (its start) a customer is moving from."""
    today = timezone.localdate(timezone=tenant.zone)
    horizon = days or tenant.booking_days_ahead
    job = JobToBook(point=point, minutes=minutes, skills=frozenset(skills))
    offers = windows_offered(
        tenant=tenant, job=job, date_from=today, date_to=today + timedelta(days=horizon)
    )
    return [offer for offer in offers if offer.start != current]


def by_day(offers: list[Offer], tenant: Tenant) -> list[tuple]:
    """Offers grouped per local day, in time order, each with its form value, for a picker."""
    days: dict = {}
    for offer in sorted(offers, key=lambda o: o.start):
        day = timezone.localdate(offer.start, tenant.zone)
        days.setdefault(day, []).append((offer, window_value(offer)))
    return list(days.items())


def window_value(offer: Offer) -> str:
    return f"{offer.start.isoformat()}/{offer.end.isoformat()}"


def parse_window(value: str) -> tuple[datetime, datetime] | None:
    """A picked window, "start/end" in ISO 8601 with offsets; None when malformed."""
    try:
        start, end = (parse_datetime(part) for part in (value or "").split("/"))
    except ValueError:
        return None
    if start is None or end is None or timezone.is_naive(start) or timezone.is_naive(end):
        return None
    return (start, end) if end > start else None
