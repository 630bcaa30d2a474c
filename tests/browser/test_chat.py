"""The web chat in real browsers: a visitor on a client's page (served with a strict
Content-Security-Policy) chats with an operator in another browser context, the operator turns
the chat into a request, an operator of another client never sees it; outside chat hours the
widget takes a message instead."""

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from contacts.models import Contact, ContactSettings
from contacts.services import contact_settings_ensure
from devtools.devstack import free_port
from requests_app.models import ServiceRequest, StatusChange
from tests.browser.conftest import login
from tests.factories import CustomerFactory, TenantFactory, UserFactory
from tests.live import stack

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chat_server(transactional_db):
    """HTTP and /ws/ on one uvicorn, with the demo page on and no rate limits in the way."""
    env = stack.environment(MAP_TILE_URL="none", CHAT_DEMO_PAGES="true", RATELIMIT_ENABLE="false")
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    port = free_port()
    asgi = stack.start_asgi(port, env)
    worker = stack.start_worker(env, hostname="chat")
    yield f"http://localhost:{port}"
    stack.stop(worker)
    stack.stop(asgi)
    stack.close_other_sessions()


def chat_hours(tenant, start: int, end: int) -> None:
    contact_settings_ensure(tenant=tenant)
    ContactSettings.objects.filter(tenant=tenant).update(chat_hours_start=start, chat_hours_end=end)


def test_a_visitor_chats_with_an_operator_who_makes_a_request_of_it(
    browser, chat_server, operator, technician, screenshot
):
    tenant = operator.tenant
    tenant.brand_color = "#c62828"
    tenant.language = "en"
    tenant.save(update_fields=["brand_color", "language"])
    chat_hours(tenant, 0, 24)
    customer = CustomerFactory(tenant=tenant, account_number="AT-4242", name="Dana Sarsen")
    beta = TenantFactory(name="Beta Networks", slug="beta-networks")
    UserFactory(username="beta.operator", tenant=beta, role=Role.OPERATOR)
    errors = []

    visitor = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    visitor.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    desk = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    login(desk, chat_server, "operator")
    desk.goto(f"{chat_server}/contacts/")
    expect(desk.locator("#live-status.on")).to_be_attached()

    visitor.goto(f"{chat_server}/chat/demo/{tenant.slug}/")
    visitor.get_by_test_id("chat-launcher").click()
    expect(visitor.get_by_test_id("chat-client")).to_have_text("Almaty Telecom")
    visitor.get_by_test_id("chat-name").fill("Dana")
    visitor.get_by_test_id("chat-start").click()
    visitor.get_by_test_id("chat-input").fill("<b>No internet</b> since the morning")
    visitor.get_by_test_id("chat-send").click()
    expect(visitor.get_by_test_id("chat-mine")).to_contain_text("<b>No internet</b>")

    contact = Contact.objects.get()
    queue = desk.get_by_test_id("contact-queue")
    expect(queue).to_contain_text(contact.number)  # arrived live, no reload
    expect(queue).to_contain_text("Almaty Telecom")
    desk.get_by_test_id("take-next").click()
    expect(desk.get_by_test_id("contact-client")).to_have_text("Almaty Telecom")
    banner = desk.get_by_test_id("contact-for")
    assert "rgb(198, 40, 40)" in banner.evaluate("e => getComputedStyle(e).backgroundColor")
    expect(desk.get_by_test_id("conversation")).to_contain_text("<b>No internet</b> since")
    desk.locator("#reply-body").fill("Hello Dana, let me check.")
    desk.get_by_role("button", name="Send as Almaty Telecom").click()

    expect(visitor.get_by_test_id("chat-theirs")).to_contain_text("Hello Dana, let me check.")
    visitor.get_by_test_id("chat-identify").fill("AT-4242")
    visitor.get_by_test_id("chat-identify-send").click()
    expect(visitor.get_by_test_id("chat-identified")).to_contain_text("we found your account")
    visitor.get_by_test_id("chat-input").fill("Thank you!")
    visitor.get_by_test_id("chat-send").click()
    expect(desk.get_by_test_id("conversation")).to_contain_text("Thank you!")  # live
    screenshot(visitor, "chat-visitor")

    desk.reload()
    expect(desk.get_by_test_id("contact-customer")).to_contain_text("Dana Sarsen")
    screenshot(desk, "chat-operator")
    desk.get_by_test_id("contact-emergency").get_by_role("button", name="Raise emergency").click()
    expect(desk.get_by_test_id("contact-request")).to_contain_text("SR-")

    request = ServiceRequest.objects.get(customer=customer)
    assert request.kind == "emergency" and request.created_by == operator
    assert "Thank you!" in request.description
    assert StatusChange.objects.filter(request=request, reason__contains=contact.number).exists()
    assert not [e for e in errors if "Content Security Policy" in e]

    other = browser.new_context().new_page()
    login(other, chat_server, "beta.operator")
    other.goto(f"{chat_server}/contacts/")
    expect(other.get_by_test_id("contact-queue")).not_to_contain_text(contact.number)
    assert other.goto(f"{chat_server}/contacts/{contact.pk}/").status == 404


def test_outside_chat_hours_the_widget_takes_a_message(browser, chat_server, tenant):
    tenant.language = "en"
    tenant.save(update_fields=["language"])
    chat_hours(tenant, 0, 0)  # closed all day
    page = browser.new_page()

    page.goto(f"{chat_server}/chat/demo/{tenant.slug}/")
    page.get_by_test_id("chat-launcher").click()
    expect(page.get_by_test_id("chat-offline-intro")).to_be_visible()
    page.get_by_test_id("chat-name").fill("Dana")
    page.get_by_test_id("chat-reach").fill("dana@example.kz")
    page.get_by_test_id("chat-offline-message").fill("Please call me tomorrow")
    page.get_by_test_id("chat-offline-send").click()

    expect(page.get_by_test_id("chat-offline-done")).to_contain_text("e-mail or SMS")
    contact = Contact.objects.get()
    assert (contact.offline, contact.reply_to, contact.status) == (True, "dana@example.kz", "new")
    assert contact.messages.get().body == "Please call me tomorrow"
