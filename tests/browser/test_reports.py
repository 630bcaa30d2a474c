"""The report page in a real browser: a manager sees the figures of a day and opens the
requests behind one of them."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.factories import TechnicianFactory
from tests.reports.conftest import DAY, at, make_request, make_visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESK = {"width": 1440, "height": 900}


def test_a_manager_sees_the_figures_and_drills_down_to_the_requests_behind_one(
    browser, server, tenant, manager, screenshot
):
    tenant.language = "en"
    tenant.save(update_fields=["language"])
    tech = TechnicianFactory(tenant=tenant, on_shift=False)
    kept, late = [], []
    for hour, arrived, into in ((9, at(9, 30), kept), (11, at(12), kept), (14, at(17), late)):
        request = make_request(tenant, window=(at(hour), at(hour + 2)))
        make_visit(request, tech, start=at(hour), arrived_at=arrived)
        into.append(request)
    page = browser.new_page(viewport=DESK, locale="en-US")
    login(page, server, manager.username)

    page.goto(f"{server}/reports/?start={DAY}&end={DAY}")

    headlines = page.get_by_test_id("headlines")
    windows = headlines.locator("article", has_text="Windows kept")
    expect(windows.get_by_test_id("figure")).to_have_text("66.7 %")
    expect(windows).to_contain_text("2 of 3")
    expect(page.get_by_test_id("tables")).to_contain_text("Travel")
    screenshot(page, "reports-desk")

    # A large export: a real worker writes it while the page shows its progress.
    page.get_by_role("button", name="Prepare a large export in the background (XLSX)").click()
    expect(page.get_by_test_id("export-download")).to_be_visible(timeout=30_000)

    windows.get_by_test_id("figure").click()

    rows = page.get_by_test_id("drill-rows")
    for request in kept:
        expect(rows).to_contain_text(request.number)
    expect(rows).not_to_contain_text(late[0].number)
    page.close()
