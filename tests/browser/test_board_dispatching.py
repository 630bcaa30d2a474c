"""Dispatching from the board in a real browser: drag and drop, the rule check, two dispatchers
at once, a stale change, a cut socket, the map without tiles, and the keyboard alone."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from accounts.models import Role
from requests_app.booking import request_create
from requests_app.models import ServiceRequest
from technicians.models import Visit
from technicians.services import request_assign_manually
from tests.browser.conftest import login
from tests.factories import SkillFactory, TechnicianFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture
def second_dispatcher(tenant):
    return UserFactory(
        username="dispatcher2", tenant=tenant, role=Role.DISPATCHER, first_name="Dana"
    )


def planned(tenant, customer, **extra) -> ServiceRequest:
    return request_create(
        tenant=tenant, customer=customer, kind="planned", category="repair", channel="web", **extra
    )


def open_board(browser, server, username: str):
    page = browser.new_page(viewport=DESKTOP)
    login(page, server, username)
    expect(page.get_by_test_id("live")).to_have_class("live on")
    return page


def technician_row(page, technician):
    """The timeline's row of a technician (rows follow the labels, in the same order)."""
    index = page.wait_for_function(
        """(id) => {
            const labels = [...document.querySelectorAll(".vis-labelset .vis-label")];
            const mine = `.tech-label[data-technician="${id}"]`;
            const i = labels.findIndex((label) => label.querySelector(mine));
            return i >= 0 ? i + 1 : null;
        }""",
        arg=technician.pk,
        timeout=10_000,
    ).json_value()
    return page.locator(".vis-itemset .vis-foreground .vis-group").nth(index - 1)


def drag_to_technician(page, request, technician, minutes_from_now: int = 60):
    """Drag the request's queue row onto the technician's row, a little after the now-line."""
    target = technician_row(page, technician)
    # Once the queue and timeline have their data: a redraw under the pointer loses the drop.
    page.wait_for_function(
        "() => { const { queue, timeline } = window.board;"
        " return !queue.loading && !queue.timer && !timeline.loading; }"
    )
    now_x = page.locator(".vis-current-time").bounding_box()["x"]
    row = target.bounding_box()
    scale = page.evaluate(
        "() => { const w = window.board.timeline.view.getWindow();"
        " return document.querySelector('.vis-foreground').getBoundingClientRect().width"
        " / (w.end - w.start); }"
    )
    x = now_x - row["x"] + minutes_from_now * 60_000 * scale
    grip = page.locator(f"tbody#rows tr[data-id='{request.pk}'] td.num").bounding_box()
    # The pointer as a hand moves it: press on the row, travel in steps, let go over the row.
    # Chromium's emulated HTML5 drag now and then starts no drag: then the hand tries again.
    for _attempt in range(3):
        try:
            with page.expect_request("**/assign/check/", timeout=5_000):
                page.mouse.move(grip["x"] + 10, grip["y"] + 10)
                page.mouse.down()
                page.mouse.move(grip["x"] + 40, grip["y"] + 10, steps=3)
                page.mouse.move(row["x"] + x, row["y"] + row["height"] / 2, steps=12)
                page.mouse.up()
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError("the drop never reached the timeline")


def test_a_job_dragged_onto_a_technician_moves_on_the_other_dispatchers_board(
    browser, server, dispatcher, second_dispatcher, technician, customer, screenshot
):
    request = planned(dispatcher.tenant, customer)
    mine = open_board(browser, server, "dispatcher")
    theirs = open_board(browser, server, "dispatcher2")
    their_row = theirs.locator(f"tbody#rows tr[data-id='{request.pk}']")
    expect(their_row.locator("td.technician")).to_have_text("unassigned")

    drag_to_technician(mine, request, technician)
    dialog = mine.get_by_test_id("rules-dialog")
    if dialog.is_visible():  # a request without a window may still break a rule: confirm it
        dialog.locator("#rules-confirm").click()

    expect(their_row.locator("td.technician")).to_have_text(str(technician), timeout=15_000)
    visit = Visit.objects.get(request=request, status__in=Visit.ACTIVE)
    assert visit.technician == technician
    assert visit.pinned
    expect(theirs.locator(f".vis-item.visit:has-text('{request.number}')")).to_have_count(1)
    screenshot(mine, "board-dragged")


def test_the_rule_warning_comes_before_a_bad_drop_and_cancel_changes_nothing(
    browser, server, dispatcher, technician, customer
):
    fiber = SkillFactory(tenant=dispatcher.tenant, code="fiber", name="Fiber")
    request = planned(dispatcher.tenant, customer, skills=[fiber])
    page = open_board(browser, server, "dispatcher")
    expect(page.locator(f"tbody#rows tr[data-id='{request.pk}']")).to_have_count(1)

    drag_to_technician(page, request, technician)

    dialog = page.get_by_test_id("rules-dialog")
    expect(dialog).to_be_visible(timeout=10_000)
    expect(dialog.locator("li[data-code=skill]")).to_contain_text("Fiber")
    dialog.locator("#rules-cancel").click()
    expect(dialog).to_be_hidden()
    page.wait_for_timeout(500)
    assert not Visit.objects.filter(request=request).exists()
    row = page.locator(f"tbody#rows tr[data-id='{request.pk}']")
    expect(row.locator("td.technician")).to_have_text("unassigned")


def test_a_stale_change_is_refused_and_the_board_shows_the_request_as_it_is(
    browser, server, dispatcher, technician, customer
):
    other = TechnicianFactory(tenant=dispatcher.tenant, user__first_name="Oleg")
    request = planned(dispatcher.tenant, customer)
    page = open_board(browser, server, "dispatcher")
    page.locator(f"tbody#rows tr[data-id='{request.pk}']").click()
    drawer = page.get_by_test_id("drawer")
    expect(drawer).to_be_visible()

    start = timezone.now() + timedelta(hours=1)
    with mock.patch("core.events.broadcast"), transaction.atomic():  # its push is lost
        request_assign_manually(
            service_request=request, technician=other, start=start, actor=dispatcher
        )
    drawer.locator("select[name=technician]").select_option(str(technician.pk))
    drawer.locator("button[data-action=assign]").click()
    dialog = page.get_by_test_id("rules-dialog")
    if dialog.is_visible():
        dialog.locator("#rules-confirm").click()

    expect(page.locator("#toast")).to_contain_text("changed this request meanwhile")
    expect(drawer.get_by_test_id("drawer-status")).to_contain_text(str(other), timeout=10_000)
    assert Visit.objects.get(request=request, status__in=Visit.ACTIVE).technician == other


def test_the_board_catches_up_after_its_socket_is_cut(browser, server, dispatcher, customer):
    page = open_board(browser, server, "dispatcher")

    # Cut it, and read the banner the moment the board has heard (it reconnects 0.5 s later).
    shown = page.evaluate(
        """() => new Promise((resolve) => {
            const socket = window.board.feed.socket;
            socket.addEventListener("close", () => setTimeout(() => resolve(
                getComputedStyle(document.querySelector("[data-testid=offline-banner]")).display
            )));
            socket.close();
        })"""
    )
    assert shown == "block"
    with mock.patch("core.events.broadcast"):  # made while the socket was down: never pushed
        missed = planned(dispatcher.tenant, customer)

    expect(page.locator(f"tbody#rows tr[data-id='{missed.pk}']")).to_have_count(1, timeout=20_000)
    expect(page.get_by_test_id("live")).to_have_class("live on")
    expect(page.get_by_test_id("offline-banner")).to_be_hidden()


def test_the_map_shows_jobs_and_technicians_without_tiles(
    browser, server, dispatcher, technician, customer
):
    technician.last_lat, technician.last_lon = 43.25, 76.95
    technician.last_seen_at = timezone.now()
    technician.save()
    planned(dispatcher.tenant, customer)
    page = open_board(browser, server, "dispatcher")

    expect(page.locator("#map path.job-marker")).to_have_count(1, timeout=10_000)
    expect(page.locator("#map .tech-marker")).to_have_count(1)
    assert page.locator("#map img.leaflet-tile").count() == 0


def test_a_dispatcher_assigns_with_the_keyboard_alone(
    browser, server, dispatcher, technician, customer
):
    request = planned(dispatcher.tenant, customer)
    page = open_board(browser, server, "dispatcher")
    row = page.locator(f"tbody#rows tr[data-id='{request.pk}']")
    expect(row).to_have_count(1)

    page.locator("#filters input[name=search]").focus()
    for _ in range(40):  # Tab through the filters to the first row of the queue
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.id") == str(request.pk):
            break
    page.keyboard.press("Enter")
    drawer = page.get_by_test_id("drawer")
    expect(drawer).to_be_visible()
    expect(drawer.locator("select[name=technician]")).to_be_focused()
    page.keyboard.press("Tab")  # the arrival time, prefilled
    page.keyboard.press("Tab")  # the Assign button
    page.keyboard.press("Enter")
    dialog = page.get_by_test_id("rules-dialog")
    page.wait_for_timeout(500)
    if dialog.is_visible():
        page.keyboard.press("Tab")  # from Cancel to "Do it anyway"
        page.keyboard.press("Enter")

    expect(row.locator("td.technician")).to_have_text(str(technician), timeout=15_000)


def test_a_dispatcher_sees_who_else_is_looking_at_a_job(
    browser, server, dispatcher, second_dispatcher, customer
):
    request = planned(dispatcher.tenant, customer)
    mine = open_board(browser, server, "dispatcher")
    theirs = open_board(browser, server, "dispatcher2")

    theirs.locator(f"tbody#rows tr[data-id='{request.pk}']").click()

    row = mine.locator(f"tbody#rows tr[data-id='{request.pk}']")
    expect(row.locator(".presence")).to_contain_text("Dana", timeout=10_000)


def test_the_queue_pages_on_the_server_and_says_how_many_match(
    browser, server, dispatcher, customer
):
    for _ in range(105):
        planned(dispatcher.tenant, customer)
    emergency = request_create(
        tenant=dispatcher.tenant,
        customer=customer,
        kind="emergency",
        category="outage",
        channel="phone",
    )
    page = open_board(browser, server, "dispatcher")

    expect(page.get_by_test_id("page-info")).to_have_text("1–100 of 106")
    page.click("#page-next")
    expect(page.get_by_test_id("page-info")).to_have_text("101–106 of 106")
    page.select_option("#filters select[name=kind]", "emergency")
    expect(page.get_by_test_id("page-info")).to_have_text("1–1 of 1")
    expect(page.locator("tbody#rows tr[data-id]")).to_have_count(1)
    expect(page.locator(f"tbody#rows tr[data-id='{emergency.pk}']")).to_have_count(1)


def test_the_timeline_shows_a_placed_lunch_as_an_item_on_the_technicians_row(
    browser, server, dispatcher, technician
):
    from technicians.models import Shift

    # Near the now-line, so it is in the timeline's first view at any hour the test runs.
    lunch = (timezone.now() + timedelta(minutes=20)).replace(second=0, microsecond=0)
    Shift.objects.filter(technician=technician).update(
        lunch_minutes=30, break_start=lunch, break_end=lunch + timedelta(minutes=30)
    )
    page = open_board(browser, server, "dispatcher")

    expect(technician_row(page, technician).locator(".vis-item.lunch")).to_have_text("lunch")
