"""Who a contact is for and who it is from: the tenant behind an address the customer used,
and the customer behind a phone number or e-mail address."""

import re
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ContactPoint, Tenant
from requests_app.models import Customer, ServiceRequest

REPEAT_DAYS = 30


def normalize_phone(value: str) -> str:
    """Digits with a leading +; a Kazakh local number (8 7xx…) becomes +7 7xx…."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    return f"+{digits}" if digits else ""


# E.164: at most 15 digits; fewer than 7 is no number a technician could call back.
PHONE_DIGITS = (7, 15)


def phone_checked(value: str) -> str:
    """The caller's number, normalised; ValidationError with a message when it is no number.
    The one rule for the console, the portal and the API."""
    phone = normalize_phone(value)
    digits = len(phone) - 1
    if re.search(r"[^\d\s()+\-.]", value or "") or not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]:
        raise ValidationError(_("Enter a phone number, e.g. +7 701 123 45 67."))
    return phone


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
