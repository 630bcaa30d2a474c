"""Writes of the contact center: a contact taken in from any channel, messages both ways,
"take next", assignment, status, the customer matched, and a request made from a contact.

Every change of a contact is a `ContactChange` row and one live event to the client's contact
center (`core.events`); every message is pushed to its conversation's audience after commit.
Answers to e-mail, SMS and chats left outside chat hours go out through the notification outbox
in the client's name."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import Tenant, User
from accounts.permissions import tenants_served
from contacts.models import (
    Contact,
    ContactChange,
    ContactMessage,
    ContactSettings,
    OperatorProfile,
)
from contacts.selectors import (
    OPEN,
    contact_payload,
    message_payload,
    settings_for,
    transcript,
)
from core import groups
from core.errors import Conflict, DomainError
from core.events import conversation_emit, event_emit
from core.phones import phone_e164
from notifications.models import Notification
from notifications.services import notification_enqueue
from requests_app.booking import request_create
from requests_app.models import Customer, ServiceRequest
from requests_app.services import request_noted

Channel = Contact.Channel
Status = Contact.Status
Direction = ContactMessage.Direction

MAX_BODY = 4000
# The request's channel for a contact's channel (a chat is a web contact to the KPIs).
REQUEST_CHANNEL = {
    Channel.CHAT: ServiceRequest.Channel.WEB,
    Channel.PORTAL: ServiceRequest.Channel.WEB,
    Channel.EMAIL: ServiceRequest.Channel.EMAIL,
    Channel.FAX: ServiceRequest.Channel.EMAIL,
    Channel.SMS: ServiceRequest.Channel.SMS,
    Channel.IVR_CALLBACK: ServiceRequest.Channel.IVR,
}
# A chat waits for minutes at most; a call-back request is someone waiting by the phone.
DEFAULT_PRIORITY = {Channel.CHAT: 2, Channel.IVR_CALLBACK: 2}


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    data: bytes


class ContactClosed(Conflict):
    @classmethod
    def default_message(cls) -> str:
        return _("This contact is closed.")


def _sla_due(tenant: Tenant, *, live_chat: bool, now: datetime) -> datetime:
    """The first-response deadline: minutes for a visitor waiting in a chat, the client's
    rule for everything else (a chat left outside chat hours is answered like an e-mail)."""
    rules = settings_for(tenant)
    minutes = rules.chat_first_response_minutes if live_chat else rules.first_response_minutes
    return now + timedelta(minutes=minutes)


def _changed(contact: Contact, *, from_status: str, actor: User | None, reason: str = "") -> None:
    """The row and the live event of a change, in the change's transaction."""
    contact.version += 1
    Contact.objects.filter(pk=contact.pk).update(version=contact.version)
    ContactChange.objects.create(
        tenant_id=contact.tenant_id,
        contact=contact,
        from_status=from_status,
        to_status=contact.status,
        assigned_to=contact.assigned_to,
        actor=actor,
        reason=reason[:300],
    )
    event_emit(
        tenant_id=contact.tenant_id,
        kind="contact.updated",
        payload=contact_payload(contact),
        audiences=(groups.contact_center(contact.tenant_id),),
    )


@transaction.atomic
def contact_create(
    *,
    tenant: Tenant,
    channel: str,
    sender: str = "",
    customer: Customer | None = None,
    subject: str = "",
    language: str = "",
    visitor_name: str = "",
    reply_to: str = "",
    offline: bool = False,
    priority: int | None = None,
    done: bool = False,
) -> Contact:
    if channel not in Channel.values:
        raise DomainError(
            _("“%(value)s” is not a valid choice.") % {"value": channel}, field="channel"
        )
    if customer is not None and customer.tenant_id != tenant.pk:
        raise DomainError(_("The customer belongs to another client."), field="customer")
    now = timezone.now()
    contact = Contact(
        tenant=tenant,
        channel=channel,
        sender=sender[:254],
        customer=customer,
        subject=subject[:300],
        language=language or (customer.language if customer else "") or tenant.language,
        visitor_name=visitor_name[:80],
        reply_to=reply_to[:254],
        offline=offline,
        priority=priority or DEFAULT_PRIORITY.get(channel, 3),
        sla_due=_sla_due(tenant, live_chat=channel == Channel.CHAT and not offline, now=now),
        status=Status.DONE if done else Status.NEW,
        done_at=now if done else None,
    )
    contact.save()
    _changed(contact, from_status="", actor=None, reason=_("Received"))
    return contact


@transaction.atomic
def contact_receive(
    *,
    tenant: Tenant,
    channel: str,
    sender: str,
    body: str,
    customer: Customer | None = None,
    subject: str = "",
    attachment: Attachment | None = None,
    request: ServiceRequest | None = None,
    handled: bool = False,
) -> Contact:
    """An inbound message of a channel that has no conversation of its own (e-mail, SMS, fax,
    an IVR call-back request, a portal message): appended to the sender's open contact of that
    channel with the client, or the start of a new one. `handled`: the automatic path already
    did what was asked (a visit confirmed, a report registered), so a new contact is recorded
    as done, out of the operators' queue."""
    open_contact = (
        Contact.objects.for_tenant(tenant)
        .select_for_update()
        .filter(channel=channel, sender=sender[:254], status__in=OPEN)
        .order_by("-created_at")
        .first()
        if sender
        else None
    )
    if open_contact is None:
        contact = contact_create(
            tenant=tenant,
            channel=channel,
            sender=sender,
            customer=customer,
            subject=subject,
            reply_to=sender,
            done=handled,
        )
    else:
        contact = open_contact
        if contact.customer_id is None and customer is not None:
            contact.customer = customer
            contact.save(update_fields=["customer"])
    if request is not None and contact.request_id is None:
        contact.request = request
        contact.save(update_fields=["request"])
    message_add(contact=contact, direction=Direction.INBOUND, body=body, attachment=attachment)
    if open_contact is not None and contact.status == Status.WAITING:
        status_set(contact=contact, status=Status.IN_PROGRESS, actor=None)
    return contact


def _locked(contact: Contact) -> Contact:
    locked = (
        Contact.objects.select_for_update()
        .only("message_seq", "status", "first_response_at", "version", "assigned_to", "tenant")
        .get(pk=contact.pk)
    )
    for field in ("message_seq", "status", "first_response_at", "version", "assigned_to_id"):
        setattr(contact, field, getattr(locked, field))
    return contact


@transaction.atomic
def message_add(
    *,
    contact: Contact,
    direction: str,
    body: str = "",
    author: User | None = None,
    attachment: Attachment | None = None,
) -> ContactMessage:
    """A message numbered in its conversation under the contact's row lock, pushed after
    commit to the conversation's audience."""
    body = _checked_body(body, attachment)
    return _message_write(_locked(contact), direction, body, author, attachment)


def _checked_body(body: str, attachment: Attachment | None) -> str:
    body = (body or "").replace("\x00", "").strip()
    if len(body) > MAX_BODY:
        raise DomainError(
            _("The message is too long: at most %(n)s characters.") % {"n": MAX_BODY},
            field="body",
        )
    if not body and attachment is None:
        raise DomainError(_("The message is empty."), field="body")
    return body


def _message_write(
    contact: Contact,
    direction: str,
    body: str,
    author: User | None,
    attachment: Attachment | None = None,
) -> ContactMessage:
    """The message of a contact whose row this transaction holds locked."""
    now = timezone.now()
    contact.message_seq += 1
    message = ContactMessage(
        tenant_id=contact.tenant_id,
        contact=contact,
        seq=contact.message_seq,
        direction=direction,
        body=body,
        author=author,
    )
    if attachment is not None:
        message.attachment.save(attachment.name, ContentFile(attachment.data), save=False)
        message.attachment_type = attachment.content_type[:60]
    message.save()
    contact.last_message_at = now
    contact.save(update_fields=["message_seq", "last_message_at"])
    if direction != Direction.NOTE:
        conversation_emit(
            contact_id=contact.pk,
            seq=message.seq,
            message=message_payload(message, for_visitor=True),
        )
    return message


@transaction.atomic
def contact_reply(*, contact: Contact, author: User, body: str) -> ContactMessage:
    """An operator's answer: in the chat, or through the outbox in the client's name to where
    the contact came from."""
    body = _checked_body(body, None)
    contact = _locked(contact)
    if contact.status == Status.DONE:
        raise ContactClosed()
    message = _message_write(contact, Direction.OUTBOUND, body, author)
    now = timezone.now()
    before = contact.status
    fields = []
    if contact.first_response_at is None:
        contact.first_response_at = now
        fields.append("first_response_at")
    if contact.assigned_to_id is None:
        contact.assigned_to = author
        contact.taken_at = contact.taken_at or now
        fields += ["assigned_to", "taken_at"]
    _reply_outbound(contact, message)
    live_chat = contact.channel == Channel.CHAT and not contact.offline
    contact.status = Status.IN_PROGRESS if live_chat else Status.WAITING
    if fields or before != contact.status:
        contact.save(update_fields=[*fields, "status"])
        _changed(contact, from_status=before, actor=author)
    return message


def _reply_outbound(contact: Contact, message: ContactMessage) -> None:
    """E-mail, SMS and chats answered after the visitor left go out through the outbox."""
    if contact.channel == Channel.CHAT and not contact.offline:
        return
    address = contact.reply_to or contact.sender
    if not address:
        return
    tenant = contact.tenant
    channel = Notification.Channel.EMAIL if "@" in address else Notification.Channel.SMS
    with override(contact.language or tenant.language):
        if channel == Notification.Channel.EMAIL:
            subject = _("Your message to %(tenant)s") % {"tenant": tenant.name}
            body = message.body + "\n\n— " + tenant.name
        else:
            subject = ""
            body = f"{tenant.name}: {message.body}"
    notification_enqueue(
        tenant_id=tenant.pk,
        channel=channel,
        recipient=address,
        subject=subject,
        body=body,
        kind="contact_reply",
        dedupe_key=f"contact-reply:{message.pk}",
        request=contact.request,
    )


@transaction.atomic
def contact_take_next(*, operator: User) -> Contact | None:
    """The most urgent new contact the operator may serve (their clients, their languages),
    given to them. SKIP LOCKED: two operators asking at once get two different contacts, and
    neither waits for the other."""
    tenant_ids = [tenant.pk for tenant in tenants_served(operator)]
    if not tenant_ids:
        return None
    profile = OperatorProfile.objects.filter(user=operator).first()
    candidates = Contact.objects.filter(
        tenant_id__in=tenant_ids, status=Status.NEW, assigned_to__isnull=True
    )
    if profile is not None and profile.languages:
        candidates = candidates.filter(language__in=[*profile.languages, ""])
    contact = (
        candidates.select_for_update(skip_locked=True, of=("self",))
        .order_by("sla_due", "priority", "pk")
        .first()
    )
    if contact is None:
        return None
    contact.status = Status.IN_PROGRESS
    contact.assigned_to = operator
    contact.taken_at = timezone.now()
    contact.save(update_fields=["status", "assigned_to", "taken_at"])
    _changed(contact, from_status=Status.NEW, actor=operator, reason=_("Taken"))
    return contact


@transaction.atomic
def contact_assign(*, contact: Contact, operator: User | None, actor: User) -> Contact:
    """A supervisor gives the contact to an operator who answers for its client (or back to
    the queue with None)."""
    contact = _locked(contact)
    if contact.status == Status.DONE:
        raise ContactClosed()
    if operator is not None and contact.tenant_id not in [t.pk for t in tenants_served(operator)]:
        raise DomainError(_("This operator does not answer for this client."), field="operator")
    before = contact.status
    contact.assigned_to = operator
    if operator is None:
        contact.status = Status.NEW
    elif contact.status == Status.NEW:
        contact.status = Status.IN_PROGRESS
        contact.taken_at = contact.taken_at or timezone.now()
    contact.save(update_fields=["assigned_to", "status", "taken_at"])
    _changed(contact, from_status=before, actor=actor, reason=_("Reassigned"))
    return contact


@transaction.atomic
def status_set(*, contact: Contact, status: str, actor: User | None) -> Contact:
    if status not in Status.values:
        raise DomainError(
            _("“%(value)s” is not a valid choice.") % {"value": status}, field="status"
        )
    contact = _locked(contact)
    before = contact.status
    if before == status:
        return contact
    now = timezone.now()
    contact.status = status
    contact.done_at = now if status == Status.DONE else None
    if status != Status.NEW and contact.assigned_to_id is None and actor is not None:
        contact.assigned_to = actor
        contact.taken_at = contact.taken_at or now
    contact.save(update_fields=["status", "done_at", "assigned_to", "taken_at"])
    _changed(contact, from_status=before, actor=actor)
    return contact


@transaction.atomic
def contact_match_customer(
    *,
    contact: Contact,
    phone: str = "",
    account_number: str = "",
    customer: Customer | None = None,
    actor: User | None = None,
) -> Customer | None:
    """The customer behind a contact, from a phone number or an account number they gave (or
    chosen by the operator). None when nobody of this client matches; never another client's."""
    tenant = contact.tenant
    if customer is None:
        found = Customer.objects.for_tenant(tenant)
        if phone:
            number = phone_e164(phone, region=tenant.phone_region)
            if not number:
                raise DomainError(_("This is not a phone number."), field="phone")
            customer = found.filter(phone=number).order_by("pk").first()
        elif account_number:
            customer = (
                found.filter(account_number=account_number.strip()[:40]).order_by("pk").first()
            )
        else:
            raise DomainError(_("Give a phone or an account number."), field="phone")
    elif customer.tenant_id != tenant.pk:
        raise DomainError(_("The customer belongs to another client."), field="customer")
    if customer is None:
        return None
    contact = _locked(contact)
    contact.customer = customer
    if not contact.language and customer.language:
        contact.language = customer.language
    contact.save(update_fields=["customer", "language"])
    _changed(contact, from_status=contact.status, actor=actor, reason=_("Customer identified"))
    return customer


@transaction.atomic
def contact_request_create(
    *,
    contact: Contact,
    actor: User,
    kind: str,
    category: str,
    description: str = "",
    estimated_minutes: int = 60,
    window: tuple[datetime, datetime] | None = None,
) -> ServiceRequest:
    """A request from a contact in one step, through the same booking as every channel: an
    emergency, or a planned visit booked in the window agreed with the customer. The
    conversation goes into the request's description and its history says where it came from."""
    contact = _locked(contact)
    if contact.customer_id is None:
        raise DomainError(_("Identify the customer first."), field="customer")
    if contact.request_id is not None:
        raise Conflict(_("A request was already made from this contact."))
    if kind == ServiceRequest.Kind.PLANNED and window is None:
        raise DomainError(_("Choose an arrival window."), field="window_start")
    text = transcript(contact)
    parts = [description.strip(), text and _("Conversation:") + "\n" + text]
    request = request_create(
        tenant=contact.tenant,
        customer=contact.customer,
        kind=kind,
        category=category,
        channel=REQUEST_CHANNEL[contact.channel],
        description="\n\n".join(part for part in parts if part)[:MAX_BODY],
        estimated_minutes=estimated_minutes,
        window=window if kind == ServiceRequest.Kind.PLANNED else None,
        actor=actor,
    )
    request_noted(
        request=request,
        actor=actor,
        reason=_("From contact %(number)s (%(channel)s): %(text)s")
        % {"number": contact.number, "channel": contact.get_channel_display(), "text": text},
    )
    contact.request = request
    contact.save(update_fields=["request"])
    message_add(
        contact=contact,
        direction=Direction.NOTE,
        body=_("Request %(number)s created.") % {"number": request.number},
        author=actor,
    )
    _changed(contact, from_status=contact.status, actor=actor, reason=request.number)
    return request


@transaction.atomic
def presence_set(
    *, user: User, presence: str, languages: list[str] | None = None
) -> OperatorProfile:
    if presence not in OperatorProfile.Presence.values:
        raise DomainError(
            _("“%(value)s” is not a valid choice.") % {"value": presence}, field="presence"
        )
    profile, _created = OperatorProfile.objects.get_or_create(
        user=user, defaults={"tenant_id": user.tenant_id}
    )
    profile.presence = presence
    profile.presence_changed_at = timezone.now()
    if languages is not None:
        profile.languages = languages
    profile.save()
    return profile


@transaction.atomic
def contact_settings_ensure(*, tenant: Tenant) -> ContactSettings:
    """The client's contact-center settings, made with the defaults (and a chat key) if none."""
    rules, _created = ContactSettings.objects.get_or_create(tenant=tenant)
    return rules
