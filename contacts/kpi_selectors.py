"""The contact center's work measured, one selector per figure, for a client and a period
[start, end) (its own time zone decides the days). Definitions:

- first response: minutes from a contact's arrival to the first answer, contacts answered in
  the period (median and 90th percentile);
- handling time: minutes from taken to done, contacts done in the period (average);
- contacts per operator-hour: contacts done ÷ the operator-hours in which an operator answered
  or changed a contact (an hour counts once per operator);
- backlog: open contacts now, and the age of the oldest;
- SLA met: of the contacts that arrived in the period and whose first-response deadline is
  decided (answered, or the deadline has passed), the share answered by the deadline — per
  channel;
- became requests: contacts of the period from which a request was made;
- repeat contacts: contacts of the period whose customer (or, unknown, sender) had contacted the
  client within the 7 days before.
"""

from datetime import datetime, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from contacts.models import Contact, ContactChange, ContactMessage
from contacts.selectors import OPEN

REPEAT_DAYS = 7


def _arrived(tenant_id: int, start: datetime, end: datetime) -> QuerySet[Contact]:
    return Contact.objects.for_tenant(tenant_id).filter(created_at__gte=start, created_at__lt=end)


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return round(ordered[index], 1)


def first_response_minutes(*, tenant_id: int, start: datetime, end: datetime) -> dict:
    rows = (
        Contact.objects.for_tenant(tenant_id)
        .filter(first_response_at__gte=start, first_response_at__lt=end)
        .values_list("created_at", "first_response_at")
    )
    minutes = [(answered - arrived).total_seconds() / 60 for arrived, answered in rows]
    return {"n": len(minutes), "p50": _percentile(minutes, 0.5), "p90": _percentile(minutes, 0.9)}


def handling_minutes(*, tenant_id: int, start: datetime, end: datetime) -> dict:
    rows = (
        Contact.objects.for_tenant(tenant_id)
        .filter(done_at__gte=start, done_at__lt=end, taken_at__isnull=False)
        .values_list("taken_at", "done_at")
    )
    minutes = [(done - taken).total_seconds() / 60 for taken, done in rows]
    average = round(sum(minutes) / len(minutes), 1) if minutes else None
    return {"n": len(minutes), "average": average}


def contacts_per_operator_hour(*, tenant_id: int, start: datetime, end: datetime) -> dict:
    done = (
        Contact.objects.for_tenant(tenant_id)
        .filter(done_at__gte=start, done_at__lt=end, assigned_to__isnull=False)
        .count()
    )
    answered = (
        ContactMessage.objects.for_tenant(tenant_id)
        .filter(created_at__gte=start, created_at__lt=end, author__isnull=False)
        .annotate(hour=TruncHour("created_at"))
        .values_list("author_id", "hour")
    )
    changed = (
        ContactChange.objects.for_tenant(tenant_id)
        .filter(created_at__gte=start, created_at__lt=end, actor__isnull=False)
        .annotate(hour=TruncHour("created_at"))
        .values_list("actor_id", "hour")
    )
    hours = len(set(answered) | set(changed))
    rate = round(done / hours, 2) if hours else None
    return {"done": done, "operator_hours": hours, "per_hour": rate}


def contact_backlog(*, tenant_id: int, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    open_contacts = Contact.objects.for_tenant(tenant_id).filter(status__in=OPEN)
    oldest = open_contacts.order_by("created_at").values_list("created_at", flat=True).first()
    overdue = open_contacts.filter(first_response_at__isnull=True, sla_due__lt=now).count()
    return {
        "open": open_contacts.count(),
        "overdue": overdue,
        "oldest_minutes": round((now - oldest).total_seconds() / 60, 1) if oldest else None,
    }


def sla_met_by_channel(
    *, tenant_id: int, start: datetime, end: datetime, now: datetime | None = None
) -> dict[str, dict]:
    now = now or timezone.now()
    decided = _arrived(tenant_id, start, end).filter(
        Q(first_response_at__isnull=False) | Q(sla_due__lt=now)
    )
    rows = decided.values("channel").annotate(
        n=Count("pk"), met=Count("pk", filter=Q(first_response_at__lte=F("sla_due")))
    )
    return {
        row["channel"]: {
            "n": row["n"],
            "met": row["met"],
            "rate": round(row["met"] / row["n"], 3) if row["n"] else None,
        }
        for row in rows
    }


def became_requests(*, tenant_id: int, start: datetime, end: datetime) -> dict:
    arrived = _arrived(tenant_id, start, end)
    total = arrived.count()
    made = arrived.filter(request__isnull=False).count()
    return {"n": total, "requests": made, "rate": round(made / total, 3) if total else None}


def repeat_contacts(*, tenant_id: int, start: datetime, end: datetime) -> dict:
    window = timedelta(days=REPEAT_DAYS)
    earlier = Contact.objects.filter(
        tenant_id=tenant_id,
        created_at__lt=OuterRef("created_at"),
        created_at__gte=OuterRef("created_at") - window,
    )
    same_customer = earlier.filter(customer_id=OuterRef("customer_id"))
    same_sender = earlier.filter(customer__isnull=True, sender=OuterRef("sender")).exclude(
        sender=""
    )
    arrived = _arrived(tenant_id, start, end)
    repeats = arrived.filter(
        (Q(customer__isnull=False) & Exists(same_customer))
        | (Q(customer__isnull=True) & ~Q(sender="") & Exists(same_sender))
    ).count()
    total = arrived.count()
    return {"n": total, "repeats": repeats, "rate": round(repeats / total, 3) if total else None}


def contact_kpis(*, tenant_id: int, start: datetime, end: datetime) -> dict:
    """Every figure of the contact center for one client and period."""
    return {
        "contacts": _arrived(tenant_id, start, end).count(),
        "first_response_minutes": first_response_minutes(tenant_id=tenant_id, start=start, end=end),
        "handling_minutes": handling_minutes(tenant_id=tenant_id, start=start, end=end),
        "per_operator_hour": contacts_per_operator_hour(tenant_id=tenant_id, start=start, end=end),
        "backlog": contact_backlog(tenant_id=tenant_id),
        "sla_met_by_channel": sla_met_by_channel(tenant_id=tenant_id, start=start, end=end),
        "became_requests": became_requests(tenant_id=tenant_id, start=start, end=end),
        "repeat_contacts": repeat_contacts(tenant_id=tenant_id, start=start, end=end),
    }
