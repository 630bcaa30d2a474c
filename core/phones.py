"""Phone numbers: one rule for every channel, through libphonenumber (`phonenumbers`).

A number is written the way people write it in the tenant's country (`Tenant.phone_region`:
"8 701 123 45 67" in Kazakhstan) or internationally ("+7 701 …"), and kept in E.164
("+77011234567"), so the same caller is found whichever channel they came through.
"""

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

E164 = phonenumbers.PhoneNumberFormat.E164
TYPED_ONLY = re.compile(r"[^\d\s()+\-.]")


def _parse(value: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(value or "", (region or settings.PHONE_DEFAULT_REGION).upper())
    except phonenumbers.NumberParseException:
        return None


def phone_e164(value: str, *, region: str | None = None) -> str:
    """The number in E.164, or "" when it cannot be a phone number (for lookups)."""
    number = _parse(value, region)
    if number is None or not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, E164)


def phone_checked(value: str, *, region: str | None = None) -> str:
    """The number in E.164; ValidationError with a message when it is not a valid number
    (for what people type: the console, the portal, the API)."""
    # Letters are no number here (libphonenumber would read "ABC" as a keypad's 222).
    number = None if TYPED_ONLY.search(value or "") else _parse(value, region)
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Enter a phone number, e.g. %(example)s.") % {"example": phone_example(region)}
        )
    return phonenumbers.format_number(number, E164)


def phone_example(region: str | None = None) -> str:
    region = (region or settings.PHONE_DEFAULT_REGION).upper()
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        return "+7 701 123 45 67"
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
