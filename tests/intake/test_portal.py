"""The customer portal at the HTTP interface: tokens, cut-off, rate limits, bad input."""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.utils import timezone

from notifications.models import Notification
from requests_app.models import ServiceRequest
from requests_app.tracking import tracking_token
from tests.dispatch.test_windows import at, book, crew, tomorrow
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_limits():
    caches["ratelimit"].clear()


def form(**extra):
    return {
        "name": "Aliya",
        "phone": "+77012223344",
        "address": "Abay 12",
        "category": "repair",
        "lat": "43.2385",
        "lon": "76.8895",
        **extra,
    }


def test_an_altered_tracking_token_is_not_found(client, tenant, customer):
    crew(tenant)
    day = tomorrow(tenant)
    request = book(tenant, customer, (at(tenant, day, 10), at(tenant, day, 12)))
    token = tracking_token(request)

    assert client.get(f"/t/{token}/").status_code == 200
    assert client.get(f"/t/{token[:-2]}xx/").status_code == 404
    assert client.get(f"/t/{request.pk}/").status_code == 404


def test_the_tracking_page_shows_the_window_but_no_name_before_the_day(client, tenant, customer):
    crew(tenant)
    day = tomorrow(tenant)
    request = book(tenant, customer, (at(tenant, day, 10), at(tenant, day, 12)))

    page = client.get(f"/t/{tracking_token(request)}/").content.decode()

    assert "10:00–12:00" in page
    assert 'data-testid="technician"' not in page


def test_past_the_cut_off_the_customer_can_no_longer_cancel(client, tenant, customer):
    tenant.change_cutoff_hours = 48
    tenant.save()
    crew(tenant)
    day = tomorrow(tenant)
    request = book(tenant, customer, (at(tenant, day, 10), at(tenant, day, 12)))

    page = client.post(f"/t/{tracking_token(request)}/", {"action": "cancel"})

    assert page.status_code == 200
    request.refresh_from_db()
    assert request.status == "assigned"


def test_a_customer_cancels_before_the_cut_off(client, tenant, customer):
    crew(tenant)
    day = tomorrow(tenant)
    request = book(tenant, customer, (at(tenant, day, 10), at(tenant, day, 12)))

    response = client.post(f"/t/{tracking_token(request)}/", {"action": "cancel"})

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "cancelled"


def test_a_known_account_books_at_its_registered_address(client, tenant):
    crew(tenant)
    known = CustomerFactory(tenant=tenant, phone="+77015550000", account_number="A-1")
    day = tomorrow(tenant)
    window = f"{at(tenant, day, 10).isoformat()}/{at(tenant, day, 12).isoformat()}"

    response = client.post(
        f"/p/{tenant.slug}/",
        form(
            phone="8 701 555 00 00",
            account_number="A-1",
            lat="",
            lon="",
            action="book",
            window=window,
        ),
    )

    assert response.status_code == 302
    request = ServiceRequest.objects.get()
    assert request.customer == known and (request.lat, request.lon) == (known.lat, known.lon)


def test_without_a_location_the_form_says_what_is_missing(client, tenant):
    response = client.post(f"/p/{tenant.slug}/", form(lat="", lon="", action="find"))

    assert response.status_code == 200
    assert "Share your location" in response.content.decode()
    assert not ServiceRequest.objects.exists()


def test_a_forged_window_is_refused_and_nothing_is_booked(client, tenant):
    crew(tenant, start=8, end=10)
    far_past = timezone.now() - timedelta(days=2)
    window = f"{far_past.isoformat()}/{(far_past + timedelta(hours=2)).isoformat()}"

    response = client.post(f"/p/{tenant.slug}/", form(action="book", window=window))

    assert response.status_code == 200
    assert not ServiceRequest.objects.exists()


def test_an_outage_report_creates_an_emergency(client, tenant):
    response = client.post(f"/p/{tenant.slug}/", form(action="emergency"))

    assert response.status_code == 302
    request = ServiceRequest.objects.get()
    assert request.kind == "emergency" and request.channel == "web"


def test_the_portal_is_rate_limited_per_address(client, tenant, settings):
    settings.RATELIMIT_ENABLE = True
    settings.PORTAL_RATE = "3/m"

    codes = [client.post(f"/p/{tenant.slug}/", {"name": ""}).status_code for _ in range(5)]

    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]


def test_an_unknown_tenant_has_no_portal(client):
    assert client.get("/p/no-such-client/").status_code == 404


def test_choosing_another_time_does_not_offer_the_window_already_booked(client, tenant, customer):
    crew(tenant, count=2)
    day = tomorrow(tenant)
    request = book(tenant, customer, (at(tenant, day, 10), at(tenant, day, 12)))

    page = client.get(f"/t/{tracking_token(request)}/", {"change": "1"}).content.decode()

    assert at(tenant, day, 12).isoformat() in page  # other windows are offered
    assert at(tenant, day, 10).isoformat() + "/" not in page


def test_a_customer_who_books_in_english_is_written_to_in_english(client, tenant, settings):
    """The client speaks Russian; the customer used the portal in English: so do the messages."""
    tenant.language = "ru"
    tenant.save()
    crew(tenant)
    day = tomorrow(tenant)
    window = f"{at(tenant, day, 10).isoformat()}/{at(tenant, day, 12).isoformat()}"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.post(f"/p/{tenant.slug}/", form(action="book", window=window))

    assert response.status_code == 302
    request = ServiceRequest.objects.get()
    assert request.customer.language == "en"
    confirmation = Notification.objects.get(request=request)
    assert confirmation.body.startswith(f"{tenant.name}: your visit {request.number} is booked")
    assert confirmation.subject == f"Your appointment {request.number}"


def test_a_customer_who_never_said_is_written_to_in_their_clients_language(tenant, customer):
    tenant.language = "ru"
    tenant.save()
    crew(tenant)
    day = tomorrow(tenant)
    request = book(tenant, customer, (at(tenant, day, 10), at(tenant, day, 12)))

    confirmation = Notification.objects.get(request=request)
    assert confirmation.subject.startswith("Ваш")
