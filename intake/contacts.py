"""Who a contact is for and who it is from: the tenant behind an address the customer used,
and the customer behind a phone number or e-mail address."""

import re
from datetime import timedelta

from django.utils import timezone

from accounts.models import ContactPoint, Tenant
from core.phones import phone_e164
from core.tenancy import every_tenant
from requests_app.models import Customer, ServiceRequest

REPEAT_DAYS = 30


def normalize_phone(value: str, *, region: str | None = None) -> str:
    """The number in E.164 ("" when it is none): the one rule, `core.phones`."""
    return phone_e164(value, region=region)


def normalize(kind: str, address: str) -> str:
    if kind == ContactPoint.Kind.EMAIL:
        return (address or "").strip().lower()
    if kind == ContactPoint.Kind.SMS and not (address or "").strip().startswith("+"):
        digits = re.sub(r"\D", "", address or "")
        return digits if len(digits) <= 6 else normalize_phone(address)  # a short code
    return normalize_phone(address)


def contact_point(kind: str, address: str) -> ContactPoint | None:
    """The contact point at this address, whichever tenant's: the directory a contact is routed
    by before anyone knows which client it is for (so read across tenants)."""
    with every_tenant():
        return (
            ContactPoint.objects.select_related("tenant")
            .filter(kind=kind, address=normalize(kind, address))
            .first()
        )


def tenant_for_contact(kind: str, address: str) -> Tenant | None:
    point = contact_point(kind, address)
    return point.tenant if point else None


def customer_by_phone(tenant: Tenant, phone: str) -> Customer | None:
    phone = normalize_phone(phone, region=tenant.phone_region)
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
    """The customer's requests in the 30 days before `now` (the start of the current call):
    more than none makes a repeat contact. What this call created does not count."""
    now = now or timezone.now()
    return list(
        ServiceRequest.objects.for_tenant(customer.tenant_id)
        .filter(
            customer=customer,
            created_at__gte=now - timedelta(days=REPEAT_DAYS),
            created_at__lt=now,
        )
        .order_by("-created_at")
    )
