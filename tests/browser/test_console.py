"""The operator console in a real browser: the client a call is for, the caller's card, a
planned visit booked in a window picked from real capacity, an emergency in one click."""

import pytest
from playwright.sync_api import expect

from accounts.models import ContactPoint
from requests_app.models import ServiceRequest
from technicians.models import Visit
from tests.browser.conftest import login
from tests.dispatch.test_windows import crew
from tests.factories import RequestFactory, TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_sees_the_client_and_books_a_window_for_a_repeat_caller(
    browser, server, operator, customer, screenshot
):
    tenant = operator.tenant
    other_client = TenantFactory(name="Beta Networks", brand_color="#7b1fa2")
    operator.clients.add(other_client)
    ContactPoint.objects.create(tenant=tenant, kind="phone", address="+77272000001")
    crew(tenant)
    RequestFactory(tenant=tenant, customer=customer, status="completed")
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    login(page, server, "operator")

    page.goto(f"{server}/console/?dialled=%2B77272000001&phone={customer.phone}")

    expect(page.get_by_test_id("call-for")).to_contain_text("Almaty Telecom")
    expect(page.get_by_test_id("customer-card")).to_contain_text(customer.name)
    expect(page.get_by_test_id("repeat")).to_contain_text("Repeat contact")
    planned = page.get_by_test_id("planned")
    planned.locator("select[name=category]").select_option("repair")
    planned.get_by_role("button", name="Show free windows").click()
    first = page.get_by_test_id("windows").locator("input[name=window]").first
    first.check()
    screenshot(page, "console-window-picker")
    page.get_by_role("button", name="Book this window").click()

    expect(page.locator(".messages")).to_contain_text("created for Almaty Telecom")
    request = ServiceRequest.objects.get(customer=customer, kind="planned", status="assigned")
    visit = Visit.objects.get(request=request, status__in=Visit.ACTIVE)
    assert request.window_start <= visit.planned_start <= request.window_end
    assert request.channel == "phone" and request.created_by == operator
    expect(page.get_by_test_id("open-requests")).to_contain_text(request.number)
    screenshot(page, "console-booked")


def test_an_emergency_is_raised_in_one_click(browser, server, operator, customer, technician):
    page = browser.new_page()
    login(page, server, "operator")
    page.goto(f"{server}/console/?phone={customer.phone}")

    page.get_by_test_id("emergency").get_by_role("button", name="Raise emergency").click()

    expect(page.locator(".messages")).to_contain_text("created for")
    request = ServiceRequest.objects.get(customer=customer)
    assert request.kind == "emergency" and request.channel == "phone"


def test_an_unknown_caller_is_registered_then_served(browser, server, operator):
    page = browser.new_page()
    login(page, server, "operator")
    page.goto(f"{server}/console/?phone=%2B77019998877")

    card = page.get_by_test_id("new-customer")
    card.locator("input[name=name]").fill("Dana Sarsen")
    card.locator("input[name=address]").fill("Dostyk 5")
    card.locator("input[name=lat]").fill("43.24")
    card.locator("input[name=lon]").fill("76.95")
    card.get_by_role("button", name="Register caller").click()

    expect(page.get_by_test_id("customer-card")).to_contain_text("Dana Sarsen")
