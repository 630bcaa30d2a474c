"""The technician's phone view: the day's job and the status buttons, on a small screen."""

import pytest
from playwright.sync_api import expect

from dispatch.engine.emergency import request_assign
from tests.browser.conftest import login
from tests.dispatch.test_assignment import emergency

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_technician_accepts_and_starts_a_job_from_the_phone(
    browser, server, technician, screenshot
):
    request = emergency(technician.tenant, description="Fibre cut in the basement")
    request_assign(request_id=request.pk)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    login(page, server, "tech")

    job = page.get_by_test_id("job")
    expect(job).to_contain_text(request.number)
    expect(job).to_contain_text("Fibre cut in the basement")
    screenshot(page, "technician-day")
    expect(page.locator("button.step-accepted")).to_have_text("Accept")
    page.click("button.step-accepted")
    page.click("button.step-en_route")
    expect(page.get_by_test_id("job").locator(".status")).to_have_text("En route")
    # Queued on the phone first, then sent: the banner says when the server has it.
    expect(page.get_by_test_id("sync-banner")).to_contain_text("All changes sent")

    request.refresh_from_db()
    assert request.status == "en_route"


def test_the_phone_shows_the_lunch_break_the_plan_placed(browser, server, technician):
    from datetime import timedelta

    from django.utils import timezone

    from technicians.models import Shift

    shift = Shift.objects.get(technician=technician, date=timezone.localdate())
    lunch = timezone.localtime(shift.start).replace(hour=12, minute=30, second=0, microsecond=0)
    Shift.objects.filter(pk=shift.pk).update(
        lunch_minutes=30, break_start=lunch, break_end=lunch + timedelta(minutes=30)
    )
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    login(page, server, "tech")

    expect(page.get_by_test_id("lunch-line")).to_have_text("Lunch break 12:30–13:00")
