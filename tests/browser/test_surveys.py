"""Surveys in a real browser: a customer answers the link on a phone after a visit completes
(invitation sent by the real worker through the outbox) and the manager finds the low score as
a follow-up case; the kiosk keeps an answer through a short network loss."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from notifications.models import Notification
from surveys import collection
from surveys.models import FollowUpCase, Response, ServicePoint, SurveySettings
from technicians.models import Visit
from technicians.services import visit_transition
from tests.browser.conftest import login
from tests.factories import CustomerFactory, RequestFactory, TechnicianFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1440, "height": 900}


def wait_for(predicate, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError("timed out")


def test_a_customer_answers_by_link_on_a_phone_and_the_manager_sees_the_low_score(
    browser, server, tenant, manager, screenshot
):
    tenant.language = "en"
    tenant.save(update_fields=["language"])
    SurveySettings.objects.create(tenant=tenant, quiet_start_hour=0, quiet_end_hour=0)
    request = RequestFactory(
        tenant=tenant,
        customer=CustomerFactory(tenant=tenant, phone="+77012345678"),
        status="on_site",
    )
    now = timezone.now()
    visit = Visit.objects.create(
        tenant=tenant,
        request=request,
        technician=TechnicianFactory(tenant=tenant),
        planned_start=now - timedelta(hours=1),
        planned_end=now,
        status=Visit.Status.ON_SITE,
    )

    visit_transition(visit=visit, to=Visit.Status.COMPLETED)  # the worker takes it from here

    message = wait_for(
        lambda: Notification.objects.filter(kind="survey_invitation", status="sent").first()
    )
    path = re.search(r"https?://[^/]+(/s/[A-Za-z0-9_-]+/)", message.body).group(1)
    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(server + path)
    expect(page.get_by_test_id("survey")).to_be_visible()
    page.get_by_test_id("question-q1").get_by_text("2", exact=True).click()
    page.get_by_test_id("question-q2").get_by_text("No", exact=True).click()
    page.get_by_test_id("question-q3").get_by_text("4", exact=True).click()
    page.get_by_test_id("question-q4").get_by_text("3", exact=True).click()
    page.locator("textarea[name=q5]").fill("Still no connection")
    screenshot(page, "survey-link-phone")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("survey-done")).to_be_visible()
    case = FollowUpCase.objects.get()
    assert case.request == request

    desk = browser.new_context(viewport=DESK).new_page()
    login(desk, server, manager.username)
    desk.goto(f"{server}/surveys/follow-ups/")
    row = desk.get_by_test_id(f"case-{case.pk}")
    expect(row).to_contain_text(request.number)
    expect(row).to_contain_text("not solved")
    row.locator("textarea[name=note]").fill("Called the customer, new visit booked")
    row.locator("input[name=reopen]").check()
    row.get_by_role("button", name="Close").click()
    expect(desk.locator(".messages")).to_contain_text("The case is closed")
    request.refresh_from_db()
    assert request.status == "new"


def test_the_kiosk_keeps_an_answer_through_a_short_network_loss(browser, server, tenant):
    point = ServicePoint.objects.create(tenant=tenant, code="abay", name="Abay office")
    _device, token = collection.kiosk_register(service_point=point, name="Hall")
    context = browser.new_context(viewport=DESK)
    page = context.new_page()
    page.goto(f"{server}/k/{token}/")
    expect(page.get_by_test_id("kiosk-5")).to_be_visible()

    context.set_offline(True)
    page.get_by_test_id("kiosk-4").click()
    expect(page.get_by_test_id("kiosk-thanks")).to_be_visible()
    expect(page.get_by_test_id("kiosk-status")).not_to_be_empty()
    assert not Response.objects.exists()

    context.set_offline(False)
    expect(page.get_by_test_id("kiosk-status")).to_be_empty(timeout=15000)
    response = wait_for(lambda: Response.objects.first())
    assert (response.channel, response.csat, response.service_point) == ("kiosk", 4, point)
    page.get_by_test_id("kiosk-5").click()
    wait_for(lambda: Response.objects.count() == 2)
    page.wait_for_timeout(1000)
    assert Response.objects.count() == 2  # nothing counted twice
