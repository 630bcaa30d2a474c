"""Who a contact is for and who it is from: the tenant behind an address the customer used,
and the customer behind a phone number or e-mail address."""

import re
from datetime import timedelta

from django.utils import timezone

from accounts.models import ContactPoint, Tenant
from requests_app.models import Customer, ServiceRequest

REPEAT_DAYS = 30


def normalize_phone(value: str) -> str:
    """Digits with a leading +; a Kazakh local number (8 7xx…) becomes +7 7xx…."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    return f"+{digits}" if digits else ""


def normalize(kind: str, address: str) -> str:
    if kind == ContactPoint.Kind.EMAIL:
        return (address or "").strip().lower()
    if kind == ContactPoint.Kind.SMS and not (address or "").strip().startswith("+"):
        digits = re.sub(r"\D", "", address or "")
        return digits if len(digits) <= 6 else normalize_phone(address)  # a short code
    return normalize_phone(address)


def tenant_for_contact(kind: str, address: str) -> Tenant | None:
    point = (
        ContactPoint.objects.select_related("tenant")
        .filter(kind=kind, address=normalize(kind, address))
        .first()
    )
    return point.tenant if point else None


def customer_by_phone(tenant: Tenant, phone: str) -> Customer | None:
    phone = normalize_phone(phone)
    if not phone:
        return None
    return Customer.objects.for_tenant(tenant).filter(phone=phone).order_by("pk").first()


def customer_by_email(tenant: Tenant, email: str) -> Customer | None:
    if not email:
        return None
    return (
        Customer.objects.for_tenant(tenant)
        .filter(email__iexact=email.strip())
        .order_by("pk")
        .first()
    )


def recent_requests(customer: Customer, *, now=None) -> list[ServiceRequest]:
    """The customer's requests of the last 30 days: more than none makes a repeat contact."""
    since = (now or timezone.now()) - timedelta(days=REPEAT_DAYS)
    return list(
        ServiceRequest.objects.for_tenant(customer.tenant_id)
        .filter(customer=customer, created_at__gte=since)
        .order_by("-created_at")
    )
