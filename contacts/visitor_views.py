"""The web chat's public side, called by the widget on a client's site (another origin: CORS
without credentials). A visitor is known by nothing but the signed token of their conversation
(`Authorization: Bearer …`); the client by the widget's public key. Rate limited per address and
per conversation; sizes bounded; text is kept as written and escaped wherever it is shown."""

import json
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.core import is_ratelimited
from django_ratelimit.decorators import ratelimit

from accounts.models import Tenant
from contacts import services
from contacts.models import Contact, ContactMessage
from contacts.selectors import chat_open_now, message_payload, messages_of, tenant_for_chat_key
from contacts.services import Attachment
from contacts.tokens import contact_for_token, visitor_token
from core.errors import DomainError
from core.phones import phone_e164
from core.tenancy import every_tenant, tenant_enter

MAX_MESSAGE = 2000
MAX_PHOTO = 5 * 1024 * 1024


def photo_type(data: bytes) -> str | None:
    """The image type a file's first bytes declare (JPEG, PNG, WebP), else None. The file is
    only ever served to staff as that type, with nosniff and a sandbox, never as a page."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


# A conversation holds this many visitor messages at most: a script left running stops here.
MAX_VISITOR_MESSAGES = 300
WIDGET = Path(settings.BASE_DIR) / "static" / "js" / "chat" / "widget.js"


def start_rate(group, request) -> str:
    return settings.CHAT_START_RATE


def chat_rate(group, request) -> str:
    return settings.CHAT_RATE


def _cors(response: HttpResponse) -> HttpResponse:
    # No cookie is read or set here: any site may embed the widget.
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Max-Age"] = "600"
    response["Cache-Control"] = "no-store"
    return response


def public(view):
    """CORS, preflight, JSON errors: the wrapping every public chat endpoint shares."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "OPTIONS":
            return _cors(HttpResponse(status=204))
        try:
            response = view(request, *args, **kwargs)
        except DomainError as error:
            body = {"detail": error.message, "code": error.code}
            if error.field:
                body[error.field] = [error.message]
            response = JsonResponse(body, status=error.status_code)
        return _cors(response)

    return wrapped


def _error(field: str, message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"detail": message, field: [message]}, status=status)


def _json(request: HttpRequest) -> dict | None:
    if len(request.body) > 16 * 1024:
        return None
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _text(data: dict, field: str, max_length: int) -> str:
    value = data.get(field, "")
    if not isinstance(value, str):
        raise DomainError(_("Not valid text."), field=field)
    value = value.replace("\x00", "").strip()
    if len(value) > max_length:
        raise DomainError(_("Too long: at most %(n)s characters.") % {"n": max_length}, field=field)
    return value


def _client(key: str):
    found = tenant_for_chat_key(key)
    if found is None:
        # The same answer for a wrong key and a disabled chat: keys tell nothing.
        raise Http404
    tenant, rules = found
    tenant_enter(tenant.pk)
    return tenant, rules


def _visitor(request: HttpRequest) -> Contact:
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    contact = contact_for_token(token)
    if contact is None:
        raise DomainError(_("This conversation has ended. Please start a new one."), field="token")
    tenant_enter(contact.tenant_id)
    return contact


def _limited(request: HttpRequest, contact: Contact) -> bool:
    """Per conversation: a visitor behind a shared address is not limited by the others."""
    return is_ratelimited(
        request,
        group="chat-conversation",
        key=lambda group, request: f"c{contact.pk}",
        rate=settings.CHAT_CONVERSATION_RATE,
        increment=True,
    )


def _too_many() -> JsonResponse:
    response = JsonResponse(
        {"detail": _("Too many messages: please wait a minute and try again.")}, status=429
    )
    response["Retry-After"] = "60"
    return response


def widget_text() -> dict:
    """What the widget says, in the active language."""
    return {
        "open": _("Chat with us"),
        "close": _("Close"),
        "title": _("Chat"),
        "name": _("Your name"),
        "start": _("Start chat"),
        "placeholder": _("Type a message…"),
        "send": _("Send"),
        "photo": _("Attach a photo"),
        "identify": _("Your phone or account number"),
        "identify_send": _("Identify me"),
        "identified": _("Thank you: we found your account."),
        "not_identified": _("We could not find an account with this number."),
        "waiting": _("An operator will answer shortly."),
        "offline_intro": _(
            "We are not online now. Leave a message with your e-mail or phone and we will answer."
        ),
        "offline_contact": _("E-mail or phone"),
        "offline_send": _("Send message"),
        "offline_done": _("Thank you. We will answer by e-mail or SMS."),
        "you": _("You"),
        "operator": _("Operator"),
        "error": _("Something went wrong. Please try again."),
        "ended": _("This conversation has ended. Please start a new one."),
    }


def widget_js(request: HttpRequest) -> HttpResponse:
    """The widget itself, at a stable address for the clients' script tags."""
    response = HttpResponse(WIDGET.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@public
def config(request: HttpRequest) -> HttpResponse:
    """The client behind a widget key: name, colour, language, whether chat is open now."""
    if request.method != "GET":
        return HttpResponse(status=405)
    tenant, rules = _client(request.GET.get("client", ""))
    with override(tenant.language):
        return JsonResponse(
            {
                "name": tenant.name,
                "colour": tenant.brand_color,
                "language": tenant.language,
                "open": chat_open_now(tenant, rules),
                "text": widget_text(),
            }
        )


@public
@ratelimit(key="ip", rate=start_rate, method="POST", block=True)
def start(request: HttpRequest) -> HttpResponse:
    """A new conversation: its token, for this visitor's page only."""
    if request.method != "POST":
        return HttpResponse(status=405)
    data = _json(request)
    if data is None:
        return _error("body", _("The body is not valid JSON."))
    tenant, rules = _client(str(data.get("client", ""))[:40])
    if not chat_open_now(tenant, rules):
        raise DomainError(_("Chat is closed now: please leave a message."), field="client")
    name = _text(data, "name", 80)
    contact = services.contact_create(
        tenant=tenant, channel=Contact.Channel.CHAT, visitor_name=name, sender=name
    )
    return JsonResponse({"token": visitor_token(contact), "number": contact.number}, status=201)


@public
@ratelimit(key="ip", rate=start_rate, method="POST", block=True)
def offline(request: HttpRequest) -> HttpResponse:
    """Outside chat hours: a message answered later by e-mail or SMS."""
    if request.method != "POST":
        return HttpResponse(status=405)
    data = _json(request)
    if data is None:
        return _error("body", _("The body is not valid JSON."))
    tenant, _rules = _client(str(data.get("client", ""))[:40])
    name = _text(data, "name", 80)
    reply_to = _reply_address(_text(data, "contact", 254), tenant)
    body = _text(data, "message", MAX_MESSAGE)
    if not body:
        raise DomainError(_("Write your message."), field="message")
    contact = services.contact_create(
        tenant=tenant,
        channel=Contact.Channel.CHAT,
        visitor_name=name,
        sender=reply_to,
        reply_to=reply_to,
        offline=True,
    )
    services.message_add(contact=contact, direction=ContactMessage.Direction.INBOUND, body=body)
    _match_quietly(contact, reply_to)
    return JsonResponse({"number": contact.number}, status=201)


def _reply_address(value: str, tenant: Tenant) -> str:
    if "@" in value:
        try:
            validate_email(value)
        except ValidationError:
            raise DomainError(_("Enter a valid e-mail address."), field="contact") from None
        return value.lower()
    phone = phone_e164(value, region=tenant.phone_region)
    if not phone:
        raise DomainError(_("Give an e-mail address or a phone number."), field="contact")
    return phone


def _match_quietly(contact: Contact, address: str) -> None:
    if "@" not in address:
        services.contact_match_customer(contact=contact, phone=address)


@public
@ratelimit(key="ip", rate=chat_rate, method="POST", block=True)
def messages(request: HttpRequest) -> HttpResponse:
    """GET: the conversation after a message number (catch-up). POST: a visitor's message."""
    contact = _visitor(request)
    if request.method == "GET":
        try:
            after = max(0, int(request.GET.get("after", 0)))
        except ValueError:
            return _error("after", _("Not a number."))
        found = [message_payload(m, for_visitor=True) for m in messages_of(contact, after=after)]
        visible = [m for m in found if m["direction"] != ContactMessage.Direction.NOTE]
        return JsonResponse({"messages": visible, "status": contact.status})
    if request.method != "POST":
        return HttpResponse(status=405)
    data = _json(request)
    if data is None:
        return _error("body", _("The body is not valid JSON."))
    body = _text(data, "body", MAX_MESSAGE)
    if not body:
        raise DomainError(_("The message is empty."), field="body")
    guard = _guard(request, contact)
    if guard is not None:
        return guard
    message = services.message_add(
        contact=contact, direction=ContactMessage.Direction.INBOUND, body=body
    )
    return JsonResponse(message_payload(message, for_visitor=True), status=201)


def _guard(request: HttpRequest, contact: Contact) -> HttpResponse | None:
    if contact.status == Contact.Status.DONE:
        raise DomainError(_("This conversation has ended. Please start a new one."), field="token")
    if _limited(request, contact):
        return _too_many()
    if contact.message_seq >= MAX_VISITOR_MESSAGES:
        return _too_many()
    return None


@public
@ratelimit(key="ip", rate=chat_rate, method="POST", block=True)
def identify(request: HttpRequest) -> HttpResponse:
    """The visitor gives a phone or account number: matched to a customer of this client only."""
    if request.method != "POST":
        return HttpResponse(status=405)
    contact = _visitor(request)
    data = _json(request)
    if data is None:
        return _error("body", _("The body is not valid JSON."))
    value = _text(data, "value", 40)
    if not value:
        raise DomainError(_("Give a phone or an account number."), field="value")
    guard = _guard(request, contact)
    if guard is not None:
        return guard
    phone = phone_e164(value, region=contact.tenant.phone_region) if value[:1] in "+8" else ""
    customer = services.contact_match_customer(
        contact=contact, phone=phone, account_number="" if phone else value
    )
    # Whether it matched, and nothing of whom: the page is the visitor's, not the customer's.
    return JsonResponse({"matched": customer is not None})


@public
@ratelimit(key="ip", rate=chat_rate, method="POST", block=True)
def photo(request: HttpRequest) -> HttpResponse:
    """A photo for the operator: JPEG, PNG or WebP up to 5 MB, by its first bytes."""
    if request.method != "POST":
        return HttpResponse(status=405)
    contact = _visitor(request)
    upload = request.FILES.get("photo")
    if upload is None:
        raise DomainError(_("Choose a photo."), field="photo")
    if upload.size > MAX_PHOTO:
        raise DomainError(_("The photo is too large: at most 5 MB."), field="photo")
    data = upload.read()
    kind = photo_type(data)
    if kind is None:
        raise DomainError(_("Only JPEG, PNG or WebP photos can be sent."), field="photo")
    guard = _guard(request, contact)
    if guard is not None:
        return guard
    extension = kind.rpartition("/")[2]
    message = services.message_add(
        contact=contact,
        direction=ContactMessage.Direction.INBOUND,
        attachment=Attachment(name=f"photo.{extension}", content_type=kind, data=data),
    )
    return JsonResponse(message_payload(message, for_visitor=True), status=201)


def demo(request: HttpRequest, slug: str) -> HttpResponse:
    """A sample page of a client's website with the widget, for demonstrations."""
    if not settings.CHAT_DEMO_PAGES:
        raise Http404
    with every_tenant():
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise Http404
        rules = services.contact_settings_ensure(tenant=tenant)
    response = render(
        request,
        "contacts/demo_site.html",
        {"site": tenant, "key": rules.chat_public_key, "now": timezone.now()},
    )
    # As strict as a careful client's site: no inline script or style, nothing from elsewhere.
    response["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; form-action 'none'; base-uri 'none'"
    )
    return response
