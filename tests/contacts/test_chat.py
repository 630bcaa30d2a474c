"""The web chat's public side: a widget key names a client, a visitor's token names one
conversation; bad input, oversized messages and photos are refused with a message; HTML is kept
as text; rates are limited; outside chat hours a message is taken for an answer by e-mail."""

import base64
import io
import json
from datetime import datetime

import pytest
from django.core.cache import caches

from contacts.models import Contact, ContactMessage, ContactSettings
from contacts.selectors import chat_open_now
from contacts.services import contact_reply, contact_settings_ensure, message_add
from contacts.tokens import visitor_token
from notifications.models import Notification
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
NOON = datetime.fromisoformat("2026-03-02T12:00:00+05:00")
NIGHT = datetime.fromisoformat("2026-03-02T23:30:00+05:00")


@pytest.fixture(autouse=True)
def no_limits(settings):
    settings.RATELIMIT_ENABLE = False


@pytest.fixture
def key(tenant):
    return contact_settings_ensure(tenant=tenant).chat_public_key


@pytest.fixture
def daytime(tenant, key):
    """Chat open round the clock: the tests run at any hour."""
    ContactSettings.objects.filter(tenant=tenant).update(chat_hours_start=0, chat_hours_end=24)


def test_chat_hours_are_the_clients_own_local_hours(tenant, key):
    rules = ContactSettings.objects.get(tenant=tenant)  # 09–18 by default

    assert chat_open_now(tenant, rules, now=NOON) is True
    assert chat_open_now(tenant, rules, now=NIGHT) is False
    rules.chat_hours_start, rules.chat_hours_end = 20, 2  # across midnight
    assert chat_open_now(tenant, rules, now=NIGHT) is True


def post(client, url, data, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(url, json.dumps(data), content_type="application/json", headers=headers)


def started(client, key, name="Dana"):
    response = post(client, "/chat/api/start/", {"client": key, "name": name})
    assert response.status_code == 201, response.content
    return response.json()["token"]


def test_the_widget_is_served_and_its_config_names_the_client(client, tenant, key, daytime):
    script = client.get("/chat/widget.js")
    config = client.get(f"/chat/api/config/?client={key}")

    assert script.status_code == 200 and script["Content-Type"].startswith("text/javascript")
    assert config.json()["name"] == "Almaty Telecom"
    assert config.json()["colour"] == tenant.brand_color
    assert config.json()["open"] is True
    assert config["Access-Control-Allow-Origin"] == "*"


def test_an_unknown_key_tells_nothing(client, key):
    assert client.get("/chat/api/config/?client=pk_nope").status_code == 404
    assert post(client, "/chat/api/start/", {"client": "pk_nope"}).status_code == 404


def test_a_visitor_starts_a_conversation_and_writes_into_the_queue(client, tenant, key, daytime):
    token = started(client, key)

    response = post(client, "/chat/api/messages/", {"body": "<b>Hi</b>"}, token)

    assert response.status_code == 201
    contact = Contact.objects.get()
    assert (contact.tenant, contact.channel, contact.status) == (tenant, "chat", "new")
    assert contact.messages.get().body == "<b>Hi</b>"  # kept as written, escaped when shown
    assert (contact.sla_due - contact.created_at).total_seconds() <= 120 + 1


def test_a_visitor_reads_their_own_conversation_and_no_internal_note(
    client, tenant, key, daytime, operator
):
    token = started(client, key)
    contact = Contact.objects.get()
    post(client, "/chat/api/messages/", {"body": "Hi"}, token)
    message_add(contact=contact, direction="note", body="secret", author=operator)
    contact_reply(contact=contact, author=operator, body="Hello, how can I help?")

    body = client.get("/chat/api/messages/?after=0", headers={"Authorization": f"Bearer {token}"})

    texts = [m["body"] for m in body.json()["messages"]]
    assert texts == ["Hi", "Hello, how can I help?"]
    assert body.json()["messages"][1]["author"] == operator.first_name


def test_a_forged_or_foreign_token_reads_nothing(client, tenant, other_tenant, key, daytime):
    started(client, key)
    contact = Contact.objects.get()
    contact.visitor_key = "changed"
    contact.save(update_fields=["visitor_key"])
    stale = visitor_token(Contact(pk=contact.pk, visitor_key="old"))

    for token in ("", "garbage", stale):
        response = client.get(
            "/chat/api/messages/?after=0", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 400


def test_an_oversized_message_is_refused_with_a_message(client, key, daytime):
    token = started(client, key)

    response = post(client, "/chat/api/messages/", {"body": "x" * 2001}, token)

    assert response.status_code == 400
    assert "2000" in response.json()["body"][0]
    assert not ContactMessage.objects.exists()


def test_bad_json_and_wrong_types_are_400s(client, key, daytime):
    token = started(client, key)

    broken = client.post(
        "/chat/api/messages/",
        "{",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    wrong = post(client, "/chat/api/messages/", {"body": ["x"]}, token)

    assert (broken.status_code, wrong.status_code) == (400, 400)


def test_a_conversation_is_rate_limited_on_its_own(client, settings, key, daytime):
    settings.RATELIMIT_ENABLE = True
    settings.CHAT_CONVERSATION_RATE = "3/m"
    caches["ratelimit"].clear()
    token = started(client, key)

    codes = [
        post(client, "/chat/api/messages/", {"body": f"m{n}"}, token).status_code for n in range(5)
    ]

    assert codes == [201, 201, 201, 429, 429]


def test_starting_conversations_is_limited_per_address(client, settings, key, daytime):
    settings.RATELIMIT_ENABLE = True
    settings.CHAT_START_RATE = "2/h"
    caches["ratelimit"].clear()

    codes = [post(client, "/chat/api/start/", {"client": key}).status_code for _ in range(3)]

    assert codes == [201, 201, 429]


def test_a_visitor_is_matched_to_a_customer_of_this_client_only(
    client, tenant, other_tenant, key, daytime
):
    CustomerFactory(tenant=other_tenant, phone="+77015550000", account_number="B-1")
    mine = CustomerFactory(tenant=tenant, account_number="A-42")
    token = started(client, key)

    foreign = post(client, "/chat/api/identify/", {"value": "+77015550000"}, token)
    own = post(client, "/chat/api/identify/", {"value": "A-42"}, token)

    assert foreign.json() == {"matched": False}
    assert own.json() == {"matched": True}
    assert Contact.objects.get().customer == mine


def image_bytes() -> bytes:
    """A 1×1 PNG."""
    return base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )


def test_a_photo_is_attached_and_anything_else_refused(client, key, daytime):
    token = started(client, key)
    headers = {"Authorization": f"Bearer {token}"}

    photo = client.post(
        "/chat/api/photo/",
        {"photo": _file(image_bytes(), "p.png")},
        headers=headers,
    )
    fake = client.post(
        "/chat/api/photo/", {"photo": _file(b"<svg onload=alert(1)>", "x.png")}, headers=headers
    )

    assert photo.status_code == 201
    assert ContactMessage.objects.get().attachment_type == "image/png"
    assert fake.status_code == 400


def test_an_oversized_photo_is_refused(client, settings, key, daytime):
    token = started(client, key)
    big = _file(b"\xff\xd8" + b"0" * (5 * 1024 * 1024 + 1), "big.jpg")

    response = client.post(
        "/chat/api/photo/", {"photo": big}, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 400
    assert "5 MB" in response.json()["detail"]


def _file(data: bytes, name: str):
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def test_outside_chat_hours_the_widget_takes_a_message_answered_by_email(
    client, tenant, key, operator
):
    ContactSettings.objects.filter(tenant=tenant).update(chat_hours_start=0, chat_hours_end=0)

    config = client.get(f"/chat/api/config/?client={key}").json()
    refused = post(client, "/chat/api/start/", {"client": key})
    left = post(
        client,
        "/chat/api/offline/",
        {"client": key, "name": "Dana", "contact": "dana@example.kz", "message": "Call me"},
    )
    contact = Contact.objects.get()
    contact_reply(contact=contact, author=operator, body="We will come tomorrow.")

    assert config["open"] is False
    assert refused.status_code == 400
    assert left.status_code == 201
    assert (contact.offline, contact.reply_to) == (True, "dana@example.kz")
    sent = Notification.objects.get(kind="contact_reply")
    assert (sent.channel, sent.recipient) == ("email", "dana@example.kz")


def test_the_demo_page_carries_the_widget_tag_and_nothing_inline(client, tenant, key):
    page = client.get(f"/chat/demo/{tenant.slug}/").content.decode()

    assert f'data-client="{key}"' in page
    assert "/chat/widget.js" in page
    assert "<style" not in page and "onclick" not in page
