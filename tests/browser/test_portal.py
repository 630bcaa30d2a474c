"""The customer portal on a phone-sized screen: report, pick a window, follow the tracking link,
move the visit."""

import pytest
from playwright.sync_api import expect

from requests_app.models import ServiceRequest
from technicians.models import Visit
from tests.dispatch.test_windows import crew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def test_a_customer_books_a_window_and_follows_the_tracking_link(
    browser, server, tenant, screenshot
):
    crew(tenant)
    context = browser.new_context(
        viewport=PHONE,
        geolocation={"latitude": 43.2385, "longitude": 76.8895},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.goto(f"{server}/p/{tenant.slug}/")

    page.fill("input[name=name]", "Aliya")
    page.fill("input[name=phone]", "8 701 222 33 44")
    page.fill("input[name=address]", "Abay Ave 12, apt 4")
    page.select_option("select[name=category]", "installation")
    page.get_by_role("button", name="Use my location").click()
    expect(page.locator("#located")).to_have_text("Location shared")
    page.get_by_role("button", name="Show free arrival windows").click()
    page.get_by_test_id("windows").locator("label.window-option").first.click()
    screenshot(page, "portal-windows")
    page.get_by_role("button", name="Book this window").click()

    expect(page.get_by_test_id("tracking")).to_be_visible()
    request = ServiceRequest.objects.get()
    assert request.channel == "web" and request.customer.phone == "+77012223344"
    assert "/t/" in page.url
    expect(page.get_by_test_id("window")).to_be_visible()
    screenshot(page, "portal-tracking")

    page.get_by_role("link", name="Choose another time").click()
    page.get_by_test_id("windows").locator("label.window-option").last.click()
    page.get_by_role("button", name="Move to this window").click()

    expect(page.locator(".messages")).to_contain_text("new arrival window is booked")
    request.refresh_from_db()
    visit = Visit.objects.get(request=request, status__in=Visit.ACTIVE)
    assert request.window_start <= visit.planned_start <= request.window_end


def test_a_bad_form_comes_back_with_messages(browser, server, tenant):
    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(f"{server}/p/{tenant.slug}/")

    page.fill("input[name=name]", "Aliya")
    page.fill("input[name=phone]", "12")
    page.get_by_role("button", name="Show free arrival windows").click()

    expect(page.locator("label", has_text="Mobile phone").locator(".error")).to_be_visible()
    assert not ServiceRequest.objects.exists()
