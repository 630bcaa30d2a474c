"""Understanding one inbound message (an SMS, a keypad choice in a call, an e-mail) and acting
on it through the request services.

The webhooks and the mailbox reader call these. Each runs in one transaction that records the
message (the replay guard) together with its effect, so a refused, failed or replayed message
leaves nothing behind. Replies are written in the tenant's language and time zone.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import ContactPoint, Tenant
from contacts.models import Contact
from contacts.services import Attachment, contact_receive
from core.errors import Conflict, DomainError, NotFound
from core.tenancy import scope_for_transaction
from intake.contacts import (
    contact_point,
    customer_by_email,
    customer_by_phone,
    normalize_phone,
    tenant_for_contact,
)
from intake.forms import CATEGORY_MINUTES
from intake.mail import Mail, Malformed, mail_read
from intake.models import InboundMessage
from notifications.models import Notification
from notifications.services import notification_enqueue
from requests_app.booking import (
    customer_may_change,
    request_cancel,
    request_confirm_presence,
    request_create,
)
from requests_app.models import ServiceRequest
from requests_app.states import OPEN
from requests_app.tracking import tracking_url
from surveys.collection import keypad_survey_step
from surveys.models import OptOut
from surveys.services import is_stop_word, survey_opt_out

Outcome = InboundMessage.Outcome
Kind = ServiceRequest.Kind
Category = ServiceRequest.Category

# Words that make an e-mail an outage report (an emergency) rather than a visit to plan.
OUTAGE_WORDS = (
    "outage",
    "no internet",
    "not working",
    "no connection",
    "internet is down",
    "нет интернета",
    "нет связи",
    "не работает",
    "пропал интернет",
    "авария",
    "интернет жоқ",
    "байланыс жоқ",
    "істемейді",
    "апат",
)


class UnknownAddress(NotFound):
    @classmethod
    def default_message(cls) -> str:
        return _("No client receives messages at this address.")


class Replayed(Conflict):
    @classmethod
    def default_message(cls) -> str:
        return _("This message was already received.")


@dataclass(frozen=True)
class Received:
    """What became of a message: the outcome, the reply to the sender, and the request."""

    outcome: str
    reply: str
    request: ServiceRequest | None = None
    # The caller has not chosen yet: ask again (IVR) instead of ending the call.
    ask_again: bool = False
    # In a keypad survey: the question the next digits answer, and how many keys it takes.
    survey_step: int | None = None
    survey_digits: int = 1


@transaction.atomic
def sms_receive(
    *, message_id: str | None, sender: str | None, to: str | None, body: str | None
) -> Received:
    """An SMS to a tenant's number: "1"/"2" answer a reminder, anything else reports a fault."""
    message_id = _field(message_id, name="MessageSid", max_length=64)
    to = _field(to, name="To", max_length=32)
    tenant = _tenant(ContactPoint.Kind.SMS, to)
    phone = _phone(sender, name="From", tenant=tenant)
    if body is None:
        raise Malformed(_("The field %(name)s is required.") % {"name": "Body"})
    text = _field(body, name="Body", max_length=1600, required=False)
    message = _record(InboundMessage.Channel.SMS, message_id, tenant=tenant, sender=phone)
    with _speaking(tenant):
        received = _finish(message, _sms_answer(tenant, phone, text))
    if text:
        _to_contacts(tenant, Contact.Channel.SMS, phone, text, received)
    return received


def _sms_answer(tenant: Tenant, phone: str, text: str) -> Received:
    if is_stop_word(text):
        # Recorded as handled without a request (the replay guard keeps a retry from acting).
        survey_opt_out(tenant_id=tenant.pk, phone=phone, source=OptOut.Source.SMS)
        return Received(
            Outcome.IGNORED,
            _("%(tenant)s: you will receive no more surveys.") % {"tenant": tenant.name},
        )
    if text in ("1", "2"):
        upcoming = upcoming_request(tenant=tenant, phone=phone)
        if upcoming is None:
            return Received(
                Outcome.NO_VISIT,
                _(
                    "%(tenant)s: you have no upcoming visit. To report a fault, describe it in "
                    "a message."
                )
                % {"tenant": tenant.name},
            )
        if text == "1":
            request_confirm_presence(service_request=upcoming)
            return Received(
                Outcome.CONFIRMED,
                _(
                    "%(tenant)s: thank you, we will see you on %(day)s between %(start)s and "
                    "%(end)s."
                )
                % {"tenant": tenant.name, **window_parts(upcoming)},
                upcoming,
            )
        return _change_link(upcoming)
    customer = customer_by_phone(tenant, phone)
    if not text or customer is None or customer.lat is None:
        return _referral(tenant, known=bool(text))
    request = request_create(
        tenant=tenant,
        customer=customer,
        kind=Kind.EMERGENCY,
        category=Category.REPAIR,
        channel=ServiceRequest.Channel.SMS,
        description=text,
    )
    parts = {"tenant": tenant.name, "number": request.number, "link": tracking_url(request)}
    if request.joined:
        return Received(
            Outcome.JOINED,
            _(
                "%(tenant)s: we already have your report %(number)s and added this one to it. "
                "Follow it here: %(link)s"
            )
            % parts,
            request,
        )
    return Received(
        Outcome.CREATED,
        _("%(tenant)s: your report %(number)s is registered. Follow it here: %(link)s") % parts,
        request,
    )


def _change_link(request: ServiceRequest) -> Received:
    tenant = request.tenant
    if not customer_may_change(request):
        return Received(
            Outcome.TOO_LATE,
            _("%(tenant)s: it is too late to change this visit online. Please call us.")
            % {"tenant": tenant.name},
            request,
        )
    return Received(
        Outcome.CHANGE_LINK,
        _("%(tenant)s: choose another time for %(number)s here: %(link)s")
        % {"tenant": tenant.name, "number": request.number, "link": change_url(request)},
        request,
    )


def _referral(tenant: Tenant, *, known: bool) -> Received:
    """No request without a place to go: the portal asks for the address."""
    if known:
        text = _(
            "%(tenant)s: we could not find your registered address. Please report the problem "
            "at %(link)s"
        )
    else:
        text = _("%(tenant)s: describe the problem in your message, or report it at %(link)s")
    return Received(Outcome.REFERRED, text % {"tenant": tenant.name, "link": portal_url(tenant)})


IVR_CHOICES = ("1", "2", "3")


@transaction.atomic
def ivr_receive(
    *,
    call_id: str | None,
    caller: str | None,
    to: str | None,
    digits: str | None,
    survey: str | None = None,
    agent: str | None = None,
) -> Received:
    """A keypad choice in a call to a tenant's number: 1 reports an outage at the caller's
    registered address, 2 confirms the next visit, 3 cancels it. With `survey` (the provider
    sends the caller there after a call or a visit: "start", then the question number each
    answer is for) the digits answer the tenant's keypad survey instead."""
    call_id = _field(call_id, name="CallSid", max_length=64)
    to = _field(to, name="To", max_length=32)
    tenant = _tenant(ContactPoint.Kind.PHONE, to)
    phone = _phone(caller, name="From", tenant=tenant)
    digits = _field(digits, name="Digits", max_length=16, required=False)
    if survey is not None:
        step = keypad_survey_step(
            tenant=tenant,
            phone=phone,
            call_id=call_id,
            step=_field(survey, name="Survey", max_length=8),
            digits=digits,
            agent=_field(agent, name="Agent", max_length=150, required=False),
        )
        return Received(
            "",
            step.say,
            ask_again=step.next_step is not None,
            survey_step=step.next_step,
            survey_digits=step.digits,
        )
    with _speaking(tenant):
        if digits not in IVR_CHOICES:
            # Still choosing (a call's first request carries no digits): nothing is recorded,
            # so the choice that follows in the same call is not taken for a replay.
            return Received(
                "",
                _(
                    "%(tenant)s. To report an outage at your address, press 1. To confirm your "
                    "next visit, press 2. To cancel it, press 3."
                )
                % {"tenant": tenant.name},
                ask_again=True,
            )
        message = _record(InboundMessage.Channel.IVR, call_id, tenant=tenant, sender=phone)
        return _finish(message, _ivr_answer(tenant, phone, digits))


def _ivr_answer(tenant: Tenant, phone: str, digits: str) -> Received:
    if digits == "1":
        customer = customer_by_phone(tenant, phone)
        if customer is None or customer.lat is None:
            return Received(
                Outcome.REFERRED,
                _("We could not find your registered address. Please call our operator."),
            )
        request = request_create(
            tenant=tenant,
            customer=customer,
            kind=Kind.EMERGENCY,
            category=Category.OUTAGE,
            channel=ServiceRequest.Channel.IVR,
            description=_("Outage reported by phone (keypad)."),
        )
        return Received(
            Outcome.JOINED if request.joined else Outcome.CREATED,
            _("Thank you. Your outage report %(number)s is registered.")
            % {"number": request.number},
            request,
        )
    upcoming = upcoming_request(tenant=tenant, phone=phone)
    if upcoming is None:
        return Received(Outcome.NO_VISIT, _("You have no upcoming visit."))
    if digits == "2":
        request_confirm_presence(service_request=upcoming)
        return Received(
            Outcome.CONFIRMED,
            _("Thank you. Your visit on %(day)s between %(start)s and %(end)s is confirmed.")
            % window_parts(upcoming),
            upcoming,
        )
    too_late = Received(
        Outcome.TOO_LATE,
        _("It is too late to cancel this visit by phone. Please call our operator."),
        upcoming,
    )
    if not customer_may_change(upcoming):
        return too_late
    try:
        request_cancel(
            service_request=upcoming, reason=_("Cancelled by the customer by phone (keypad)")
        )
    except DomainError:
        # The technician got there first; the savepoint of request_cancel rolled it back.
        return too_late
    return Received(
        Outcome.CANCELLED,
        _("Your visit on %(day)s between %(start)s and %(end)s is cancelled.")
        % window_parts(upcoming),
        upcoming,
    )


@transaction.atomic
def email_receive(*, raw: bytes) -> Received:
    """An e-mail to a tenant's address: an outage wording makes an emergency, anything else a
    planned visit whose window the customer picks from the link we send back."""
    mail = mail_read(raw)
    tenant = _tenant_for_mail(mail.recipients)
    message = _record(
        InboundMessage.Channel.EMAIL, mail.message_id, tenant=tenant, sender=mail.sender
    )
    with _speaking(tenant):
        if mail.automatic or _our_own(mail.sender):
            return _finish(message, Received(Outcome.IGNORED, ""))
        customer = customer_by_email(tenant, mail.sender)
        if is_fax(mail):
            # A fax is read by a person: no request is guessed from its pages.
            received = _finish(message, Received(Outcome.OPERATOR, ""))
            _to_contacts(tenant, Contact.Channel.FAX, mail.sender, mail.description, received, mail)
            return received
        if customer is None or customer.lat is None:
            received = _referral(tenant, known=True)
            _email_reply(tenant, message, mail.sender, received.reply)
            received = _finish(message, received)
            _to_contacts(
                tenant, Contact.Channel.EMAIL, mail.sender, mail.description, received, mail
            )
            return received
        outage = is_outage(mail.description)
        request = request_create(
            tenant=tenant,
            customer=customer,
            kind=Kind.EMERGENCY if outage else Kind.PLANNED,
            category=Category.OUTAGE if outage else Category.REPAIR,
            channel=ServiceRequest.Channel.EMAIL,
            description=mail.description,
            estimated_minutes=60 if outage else CATEGORY_MINUTES[Category.REPAIR],
        )
        if outage:
            reply = _(
                "%(tenant)s: we registered your outage report %(number)s; a technician will be "
                "assigned shortly. Follow it here: %(link)s"
            ) % {"tenant": tenant.name, "number": request.number, "link": tracking_url(request)}
        else:
            reply = _(
                "%(tenant)s: we received your request %(number)s. Choose when the technician "
                "should come here: %(link)s"
            ) % {"tenant": tenant.name, "number": request.number, "link": change_url(request)}
        _email_reply(tenant, message, mail.sender, reply, request=request)
        outcome = Outcome.JOINED if request.joined else Outcome.CREATED
        received = _finish(message, Received(outcome, reply, request))
    _to_contacts(tenant, Contact.Channel.EMAIL, mail.sender, mail.description, received, mail)
    return received


@transaction.atomic
def ivr_callback_receive(*, call_id: str | None, caller: str | None, to: str | None) -> Received:
    """A caller who chose to be called back (the IVR's "call me back" branch): a contact in the
    operators' queue with the number to call."""
    call_id = _field(call_id, name="CallSid", max_length=64)
    to = _field(to, name="To", max_length=32)
    tenant = _tenant(ContactPoint.Kind.PHONE, to)
    phone = _phone(caller, name="From", tenant=tenant)
    message = _record(
        InboundMessage.Channel.IVR, f"callback:{call_id}", tenant=tenant, sender=phone
    )
    with _speaking(tenant):
        received = _finish(
            message,
            Received(Outcome.OPERATOR, _("Thank you. An operator will call you back shortly.")),
        )
        text = _("Call-back requested from %(phone)s.") % {"phone": phone}
    _to_contacts(tenant, Contact.Channel.IVR_CALLBACK, phone, text, received)
    return received


# What the automatic path leaves to a person: these outcomes put the contact in the queue.
NEEDS_AN_OPERATOR = (Outcome.REFERRED, Outcome.NO_VISIT, Outcome.TOO_LATE, Outcome.OPERATOR)


def is_fax(mail: Mail) -> bool:
    """A fax gateway's e-mail: the pages as a PDF, from a fax address or titled as a fax."""
    local = mail.sender.partition("@")[0]
    return bool(mail.pdfs) and ("fax" in local or mail.subject.casefold().startswith("fax"))


def _to_contacts(
    tenant: Tenant, channel: str, sender: str, text: str, received: Received, mail=None
) -> None:
    """Every message that came in is part of a contact in the contact center's queue; what the
    automatic path settled is recorded there as done."""
    attachment = None
    if mail is not None and mail.pdfs:
        name, data = mail.pdfs[0]
        attachment = Attachment(name=name, content_type="application/pdf", data=data)
    request = received.request
    customer = request.customer if request is not None else None
    if customer is None:
        lookup = customer_by_email if "@" in sender else customer_by_phone
        customer = lookup(tenant, sender)
    contact_receive(
        tenant=tenant,
        channel=channel,
        sender=sender,
        body=text or "—",
        customer=customer,
        subject=mail.subject if mail is not None else "",
        attachment=attachment,
        request=request,
        handled=received.outcome not in NEEDS_AN_OPERATOR,
    )


def is_outage(text: str) -> bool:
    text = text.casefold()
    return any(word in text for word in OUTAGE_WORDS)


def _tenant_for_mail(recipients: list[str]) -> Tenant:
    for address in recipients:
        tenant = tenant_for_contact(ContactPoint.Kind.EMAIL, address)
        if tenant is not None:
            scope_for_transaction(tenant.pk)
            return tenant
    raise UnknownAddress()


def _our_own(sender: str) -> bool:
    """Mail from the platform or a tenant's intake address: answering it would loop."""
    return (
        sender == parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()
        or contact_point(ContactPoint.Kind.EMAIL, sender) is not None
    )


def _email_reply(tenant, message, recipient, body, *, request=None) -> None:
    notification_enqueue(
        tenant_id=tenant.pk,
        channel=Notification.Channel.EMAIL,
        recipient=recipient,
        subject=_("Your message to %(tenant)s") % {"tenant": tenant.name},
        body=body,
        kind="inbound_email_reply",
        dedupe_key=f"inbound-email:{message.pk}",
        request=request,
    )


def upcoming_request(*, tenant: Tenant, phone: str) -> ServiceRequest | None:
    """The next open planned request of this phone's customer whose agreed window is not over."""
    return (
        ServiceRequest.objects.for_tenant(tenant)
        .filter(
            customer__phone=phone,
            kind=Kind.PLANNED,
            status__in=OPEN,
            window_end__gt=timezone.now(),
        )
        .select_related("tenant", "customer")
        .order_by("window_start", "pk")
        .first()
    )


@transaction.atomic
def window_parts(request: ServiceRequest) -> dict[str, str]:
    """Day, start and end of the agreed window in the active time zone, for messages."""
    start = timezone.localtime(request.window_start)
    return {
        "number": request.number,
        "day": formats.date_format(start, "SHORT_DATE_FORMAT"),
        "start": formats.time_format(start, "H:i"),
        "end": formats.time_format(timezone.localtime(request.window_end), "H:i"),
    }


def change_url(request: ServiceRequest) -> str:
    """The tracking link that opens the window picker."""
    return tracking_url(request) + "?change=1"


def portal_url(tenant: Tenant) -> str:
    path = reverse("portal-new", kwargs={"slug": tenant.slug})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


@contextmanager
def _speaking(tenant: Tenant) -> Iterator[None]:
    with override(tenant.language), timezone.override(tenant.zone):
        yield


def _field(value: str | None, *, name: str, max_length: int, required: bool = True) -> str:
    value = (value or "").strip()
    if "\x00" in value:  # PostgreSQL text cannot hold it, and no provider sends it
        raise Malformed(_("The field %(name)s is not valid text.") % {"name": name}, field=name)
    if required and not value:
        raise Malformed(_("The field %(name)s is required.") % {"name": name}, field=name)
    if len(value) > max_length:
        raise Malformed(_("The field %(name)s is too long.") % {"name": name}, field=name)
    return value


def _phone(value: str | None, *, name: str, tenant: Tenant) -> str:
    phone = normalize_phone(_field(value, name=name, max_length=32), region=tenant.phone_region)
    # E.164: at most 15 digits; fewer than 7 is no subscriber number.
    if not 7 <= len(phone) - 1 <= 15:
        raise Malformed(_("The field %(name)s is not a phone number.") % {"name": name}, field=name)
    return phone


def _tenant(kind: str, address: str) -> Tenant:
    """The tenant the message was sent to; the rest of the transaction works for it alone."""
    tenant = tenant_for_contact(kind, address)
    if tenant is None:
        raise UnknownAddress()
    scope_for_transaction(tenant.pk)
    return tenant


def _record(channel: str, message_id: str, *, tenant: Tenant, sender: str) -> InboundMessage:
    """Claim the message id before acting. A concurrent duplicate waits on the unique index
    until this transaction ends, then fails here, so a message never acts twice."""
    try:
        with transaction.atomic():
            return InboundMessage.objects.create(
                channel=channel,
                message_id=message_id,
                tenant=tenant,
                sender=sender[:254],
                outcome=Outcome.IGNORED,
            )
    except IntegrityError:
        raise Replayed() from None


def _finish(message: InboundMessage, received: Received) -> Received:
    message.outcome = received.outcome
    message.request = received.request
    message.save(update_fields=["outcome", "request"])
    return received
