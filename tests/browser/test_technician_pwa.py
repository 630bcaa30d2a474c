"""The technician's phone as an offline-first app, at 390 × 844 in Chromium: a day done in a
basement is replayed once and in order; a conflict is shown; the customer's live link shows the
ETA and ends; every target is big enough for a thumb."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from fieldwork.links import live_url
from fieldwork.models import ClientAction, LocationPing, ProofOfWork, VisitPhoto
from requests_app.models import StatusChange
from technicians.models import Visit
from technicians.services import visit_unassign
from tests.browser.conftest import login
from tests.factories import RequestFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": False}


def photo_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (2400, 1800), (40, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def todays_jobs(technician, count: int) -> list[Visit]:
    """Jobs planned a few minutes ago (today at any hour but the first minutes), in an open
    window: no guard rail stops them."""
    now = timezone.now()
    visits = []
    for number in range(count):
        start = now - timedelta(minutes=2 * (count - number) + 1)
        request = RequestFactory(
            tenant=technician.tenant,
            status="assigned",
            window_start=now - timedelta(hours=1),
            window_end=now + timedelta(hours=2),
            address=f"Abay Ave {10 + number}",
            description=f"Job {number + 1}",
        )
        visits.append(
            Visit.objects.create(
                tenant=technician.tenant,
                request=request,
                technician=technician,
                planned_start=start,
                planned_end=start + timedelta(minutes=1),
            )
        )
    return visits


def open_phone(browser, server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    login(page, server, "tech")
    page.goto(f"{server}/tech/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    return context, page


def card(page, visit):
    return page.locator(f'[data-testid=job][data-visit="{visit.pk}"]')


def sign(page, job):
    canvas = job.locator("canvas.signature")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 40 + (step % 3) * 30)
    page.mouse.up()


def finish(page, visit, photo):
    job = card(page, visit)
    for step in ("accepted", "en_route", "on_site"):
        job.locator(f"button.step-{step}").click()
        job = card(page, visit)
        expect(job.locator(".status")).to_have_text(
            {"accepted": "Accepted", "en_route": "En route", "on_site": "On site"}[step]
        )
    job.locator("select.resolution").select_option(index=1)
    job.locator("input.photo").set_input_files(
        {"name": "work.png", "mimeType": "image/png", "buffer": photo}
    )
    expect(job.locator("[data-testid=thumbs] img")).to_have_count(1)
    sign(page, job)
    job.locator("button.step-completed").click()
    expect(card(page, visit).locator(".status")).to_have_text("Completed")


def test_a_day_done_offline_is_replayed_once_in_order_with_the_phones_times(
    browser, server, technician, screenshot
):
    first, second = todays_jobs(technician, 2)
    context, page = open_phone(browser, server)
    expect(page.get_by_test_id("job")).to_have_count(2)
    expect(page.get_by_test_id("sync-banner")).to_contain_text("All changes sent")

    context.set_offline(True)
    page.reload()  # the page and the day come from the service worker's cache
    expect(page.get_by_test_id("job")).to_have_count(2)
    photo = photo_bytes()
    finish(page, first, photo)
    finish(page, second, photo)
    expect(page.get_by_test_id("sync-banner")).to_contain_text("Offline")
    expect(page.get_by_test_id("sync-banner")).to_contain_text("12 changes waiting")
    screenshot(page, "technician-pwa-offline")
    queued = page.evaluate("window.phone.pending()")
    assert StatusChange.objects.filter(to_status="completed").count() == 0

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.get_by_test_id("sync-banner")).to_contain_text("All changes sent", timeout=20000)
    # The outbox replays the same actions again (a retry after a lost answer): nothing twice.
    again = page.evaluate(
        """async (actions) => {
            const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const response = await fetch('/api/v1/me/actions/', {method: 'POST',
              headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
              body: JSON.stringify({actions: actions.map(({seq, ...a}) => a)})});
            return (await response.json()).results.map((r) => r.outcome);
        }""",
        queued,
    )

    assert set(again) == {"duplicate"}
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == "completed"
    steps = {(a["visit"], a["to"]): a["at"] for a in queued if a["kind"] == "step"}
    assert first.finished_at.isoformat().startswith(steps[(first.pk, "completed")][:19])
    assert first.finished_at < second.accepted_at  # in the order they were done
    assert ClientAction.objects.count() == len(queued) == 12
    for visit in (first, second):
        trail = list(
            StatusChange.objects.filter(request=visit.request).values_list("to_status", flat=True)
        )
        assert trail == ["accepted", "en_route", "on_site", "completed"]
    assert VisitPhoto.objects.count() == 2
    assert all(p.size < 1_500_000 for p in VisitPhoto.objects.all())
    assert ProofOfWork.objects.exclude(signature="").count() == 2
    context.close()


def test_a_conflict_is_shown_on_the_phone(browser, server, technician, dispatcher):
    (visit,) = todays_jobs(technician, 1)
    context, page = open_phone(browser, server)
    expect(page.get_by_test_id("job")).to_have_count(1)

    context.set_offline(True)
    card(page, visit).locator("button.step-accepted").click()
    visit_unassign(visit=visit, actor=dispatcher, reason="Customer cancelled by phone")
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")

    expect(page.get_by_test_id("not-applied")).to_contain_text("Not applied: Accept", timeout=20000)
    expect(page.get_by_test_id("not-applied")).to_contain_text("cancelled")
    assert StatusChange.objects.filter(
        request=visit.request, reason__startswith="Not applied"
    ).exists()
    context.close()


def test_the_customers_live_link_shows_the_eta_updates_and_ends(browser, server, technician):
    (visit,) = todays_jobs(technician, 1)
    technician.location_consent = True
    technician.save()
    Visit.objects.filter(pk=visit.pk).update(status="en_route")
    visit.refresh_from_db()
    LocationPing.objects.create(
        tenant=technician.tenant,
        technician=technician,
        visit=visit,
        lat=43.30,
        lon=76.95,
        at=timezone.now(),
    )
    customer = browser.new_context(**PHONE).new_page()

    customer.goto(live_url(visit).replace("http://127.0.0.1:8000", server))

    expect(customer.get_by_test_id("technician")).to_contain_text(technician.user.first_name)
    first_eta = customer.get_by_test_id("eta").inner_text()
    assert first_eta
    LocationPing.objects.create(
        tenant=technician.tenant,
        technician=technician,
        visit=visit,
        lat=43.239,
        lon=76.889,
        at=timezone.now(),
    )
    customer.evaluate("window.liveEtaPoll()")
    expect(customer.get_by_test_id("eta")).not_to_have_text(first_eta)
    Visit.objects.filter(pk=visit.pk).update(
        status="completed", finished_at=timezone.now() - timedelta(minutes=61)
    )
    customer.evaluate("window.liveEtaPoll()")
    expect(customer.get_by_test_id("ended")).to_be_visible()
    customer.context.close()


def test_every_tap_target_is_at_least_44_px(browser, server, technician, screenshot):
    _first, second = todays_jobs(technician, 2)
    Visit.objects.filter(pk=second.pk).update(status="on_site")
    second.request.status = "on_site"
    second.request.save()
    context, page = open_phone(browser, server)
    expect(page.get_by_test_id("job")).to_have_count(2)
    card(page, second).locator("details.not-done summary").click()

    targets = page.locator(
        "main button:visible, main select:visible, .job .links a:visible, main summary:visible,"
        " label.photo-pick:visible, label.consent:visible"
    )
    small = []
    for index in range(targets.count()):
        box = targets.nth(index).bounding_box()
        if box and (box["height"] < 44 or box["width"] < 44):
            small.append((targets.nth(index).evaluate("e => e.outerHTML.slice(0, 80)"), box))
    assert targets.count() > 10
    assert small == []
    screenshot(page, "technician-phone-en")
    context.add_cookies([{"name": "django_language", "value": "ru", "url": server}])
    page.reload()
    expect(page.get_by_test_id("job")).to_have_count(2)
    screenshot(page, "technician-phone-ru")
    context.close()
