"""The dispatcher board updates live, in a real browser, without reloading."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from core.events import event_emit
from requests_app.booking import request_create
from requests_app.models import ServiceRequest
from requests_app.services import request_flag_window_risk
from technicians.models import Visit
from tests.browser.conftest import login
from tests.factories import CustomerFactory
from tests.requests_app.test_incidents import report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_emergency_created_on_the_board_appears_and_gets_assigned_without_reload(
    browser, server, dispatcher, technician, customer, screenshot
):
    page = browser.new_page(viewport={"width": 1400, "height": 800})
    login(page, server, "dispatcher")
    expect(page.get_by_test_id("tenant")).to_have_text("Almaty Telecom")
    expect(page.get_by_test_id("live")).to_have_class("live on")
    page.evaluate("window.__sameDocument = true")

    page.click("#new-emergency")
    page.select_option("#emergency-form select[name=category]", "outage")
    page.fill("textarea[name=description]", "Whole building offline")
    page.click("#emergency-form button[type=submit]")

    row = page.locator("tbody#rows tr").first
    expect(row).to_have_attribute("data-status", "assigned", timeout=20_000)
    expect(row.locator("td.technician")).to_have_text(str(technician))
    assert page.evaluate("window.__sameDocument") is True  # never reloaded
    screenshot(page, "board-assigned")


def test_the_board_catches_up_when_a_push_is_lost(browser, server, dispatcher, customer):
    page = browser.new_page()
    login(page, server, "dispatcher")
    expect(page.get_by_test_id("live")).to_have_class("live on")

    with mock.patch("core.events.broadcast"):  # this push is "lost" by the channel layer
        lost = request_create(
            tenant=dispatcher.tenant,
            customer=customer,
            kind="planned",
            category="repair",
            channel="api",
        )
    with transaction.atomic():  # the next push arrives and reveals the gap
        event_emit(tenant_id=dispatcher.tenant_id, kind="heartbeat", payload={})

    expect(page.locator(f"tbody#rows tr[data-id='{lost.pk}']")).to_have_count(1, timeout=20_000)


def test_the_board_shows_the_number_and_status_of_open_requests(
    browser, server, dispatcher, customer
):
    request = request_create(
        tenant=dispatcher.tenant,
        customer=customer,
        kind="planned",
        category="installation",
        channel="web",
    )
    page = browser.new_page()
    login(page, server, "dispatcher")
    row = page.locator(f"tbody#rows tr[data-id='{request.pk}']")
    expect(row.locator("td.num")).to_have_text(request.number)
    expect(row.locator("td.status")).to_have_text("New")


def test_a_window_at_risk_is_flagged_on_the_board_live(browser, server, dispatcher, customer):
    start = timezone.now() + timedelta(hours=1)
    request = request_create(
        tenant=dispatcher.tenant,
        customer=customer,
        kind="planned",
        category="repair",
        channel="web",
        window=(start, start + timedelta(hours=2)),
        reserve=False,
    )
    page = browser.new_page()
    login(page, server, "dispatcher")
    row = page.locator(f"tbody#rows tr[data-id='{request.pk}']")
    expect(row).not_to_have_class("at-risk")

    with transaction.atomic():
        request_flag_window_risk(request=request)

    expect(row.locator("td.window")).to_contain_text("at risk", timeout=10_000)
    expect(page.locator("#count-at-risk")).to_have_text("1")


def test_an_outage_reported_by_many_customers_is_one_line_that_unfolds(
    browser, server, dispatcher, screenshot
):
    page = browser.new_page(viewport={"width": 1400, "height": 800})
    login(page, server, "dispatcher")
    expect(page.get_by_test_id("live")).to_have_class("live on")

    reports = [report(dispatcher.tenant, north_km=0.3 * i) for i in range(3)]

    incident = page.locator("tbody#rows tr.incident")
    expect(incident).to_have_count(1, timeout=20_000)
    expect(incident.locator("td.incident-size")).to_contain_text("3 customers")
    incident.click()
    for request in reports:
        expect(page.locator(f"tbody#rows tr.in-incident[data-id='{request.pk}']")).to_have_count(1)
    screenshot(page, "board-incident")


def test_a_customer_beyond_the_first_list_is_found_by_phone_and_served(
    browser, server, dispatcher, technician
):
    CustomerFactory.create_batch(3, tenant=dispatcher.tenant)
    far_down = CustomerFactory(tenant=dispatcher.tenant, name="Zhanna Search", phone="+77015550123")
    page = browser.new_page(viewport={"width": 1400, "height": 800})
    login(page, server, "dispatcher")
    expect(page.get_by_test_id("live")).to_have_class("live on")

    page.click("#new-emergency")
    page.fill("#customer-search", "8 701 555 01 23")
    expect(page.locator("select[name=customer] option")).to_have_count(1, timeout=10_000)
    expect(page.locator("select[name=customer] option")).to_contain_text("Zhanna Search")
    page.click("#emergency-form button[type=submit]")

    expect(page.locator("tbody#rows tr").first).to_contain_text("Zhanna Search", timeout=20_000)
    assert ServiceRequest.objects.get().customer == far_down


def test_an_emergency_planned_past_its_response_deadline_is_flagged(
    browser, server, dispatcher, technician, customer
):
    request = request_create(
        tenant=dispatcher.tenant,
        customer=customer,
        kind="emergency",
        category="outage",
        channel="phone",
    )
    late = request.response_due + timedelta(minutes=30)
    with transaction.atomic():
        Visit.objects.create(
            tenant=dispatcher.tenant,
            request=request,
            technician=technician,
            planned_start=late,
            planned_end=late + timedelta(minutes=45),
        )
    assert late > timezone.now()
    page = browser.new_page()
    login(page, server, "dispatcher")

    row = page.locator(f"tbody#rows tr[data-id='{request.pk}']")
    expect(row).to_have_class("kind-emergency status-new at-risk", timeout=10_000)
    expect(page.locator("#count-at-risk")).to_have_text("1")
