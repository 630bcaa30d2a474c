"""One phone rule for every channel: libphonenumber, in the tenant's region, kept in E.164."""

import pytest
from django.core.exceptions import ValidationError

from core.phones import phone_checked, phone_e164


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("8 701 123 45 67", "KZ", "+77011234567"),  # the national prefix 8
        ("+7 (701) 123-45-67", "KZ", "+77011234567"),
        ("701 123 45 67", "KZ", "+77011234567"),
        ("8 727 200 00 02", "KZ", "+77272000002"),  # an Almaty landline
        ("91 234 56 78", "UZ", "+998912345678"),  # another client's country, its own way
        ("+998 91 234 56 78", "KZ", "+998912345678"),  # international wins over the region
    ],
)
def test_a_number_typed_any_usual_way_is_kept_in_e164(typed, region, e164):
    assert phone_checked(typed, region=region) == e164
    assert phone_e164(typed, region=region) == e164


@pytest.mark.parametrize("typed", ["12345", "+7 701 ABC 45 67", "call me", "", "+7 000 000 00 00"])
def test_what_is_no_phone_number_is_refused_with_an_example(typed):
    with pytest.raises(ValidationError, match=r"e\.g\. \+7"):
        phone_checked(typed, region="KZ")


def test_a_lookup_of_no_number_finds_nothing():
    assert phone_e164("not a number", region="KZ") == ""
