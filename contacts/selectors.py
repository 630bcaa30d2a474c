"""Reads of the contact center: who may see which contact, the queues, and the shapes screens
and events carry."""

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Role, Tenant, User
from accounts.permissions import INTAKE_ROLES
from contacts.models import Contact, ContactMessage, ContactSettings, OperatorProfile
from core.errors import NotFound
from core.tenancy import every_tenant

# Who answers contacts, and who watches the queues and reassigns.
OPERATOR_ROLES = INTAKE_ROLES
SUPERVISOR_ROLES = (Role.MANAGER, Role.ADMIN)
CONTACT_ROLES = tuple(dict.fromkeys((*OPERATOR_ROLES, *SUPERVISOR_ROLES)))

LANGUAGES_SERVED = ("en", "ru", "kk")
OPEN = (Contact.Status.NEW, Contact.Status.IN_PROGRESS, Contact.Status.WAITING)


def settings_for(tenant: Tenant | int) -> ContactSettings:
    """The client's contact-center rules; the defaults (unsaved) when it has none yet."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    found = ContactSettings.objects.for_tenant(tenant_id).first()
    return found or ContactSettings(tenant_id=tenant_id)


def tenant_for_chat_key(key: str) -> tuple[Tenant, ContactSettings] | None:
    """The client a widget's public key names: the directory a chat is routed by before anyone
    knows which client it is for (read across tenants, like a contact point)."""
    if not key or len(key) > 40:
        return None
    with every_tenant():
        found = (
            ContactSettings.objects.select_related("tenant")
            .filter(chat_public_key=key, chat_enabled=True)
            .first()
        )
    return (found.tenant, found) if found else None


def chat_open_now(tenant: Tenant, rules: ContactSettings, *, now: datetime | None = None) -> bool:
    """Whether operators answer chats now, in the client's own time zone."""
    hour = timezone.localtime(now or timezone.now(), tenant.zone).hour
    start, end = rules.chat_hours_start, rules.chat_hours_end
    if start == end:
        return False
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end  # hours across midnight


def served_tenant_ids(user) -> list[int]:
    """`tenants_served` as ids, in one query (no tenant row is read)."""
    if not user.is_authenticated or user.tenant_id is None:
        return []
    served = [user.tenant_id]
    if user.role in INTAKE_ROLES:
        served += [pk for pk in user.clients.values_list("pk", flat=True) if pk != user.tenant_id]
    return served


def contacts_for_user(user) -> QuerySet[Contact]:
    """The one scoping of contacts: the clients the user answers for (their own tenant, and for
    operators the clients listed on them); nobody else's, whatever the database would show."""
    if not user.is_authenticated or not user.has_role(*CONTACT_ROLES):
        return Contact.objects.none()
    return Contact.objects.filter(tenant_id__in=served_tenant_ids(user))


def get_contact_for_user(user, pk: int, *, full: bool = False) -> Contact:
    """The contact, if the user may see it. `full` reads its customer, operator and request
    with it (for screens); a write needs the client alone, and a narrower join plans faster."""
    related = ("tenant", "customer", "assigned_to", "request") if full else ("tenant",)
    contact = contacts_for_user(user).select_related(*related).filter(pk=pk).order_by().first()
    if contact is None:
        raise NotFound()
    return contact


def queue_for(
    user,
    *,
    tenant_id: int | None = None,
    statuses: tuple[str, ...] = OPEN,
    mine: bool = False,
    limit: int = 200,
) -> list[Contact]:
    """Open contacts by urgency (first-response deadline, then priority): the operator's queue,
    and per client the supervisor's."""
    contacts = contacts_for_user(user).filter(status__in=statuses)
    if tenant_id is not None:
        contacts = contacts.filter(tenant_id=tenant_id)
    if mine:
        contacts = contacts.filter(assigned_to=user)
    return list(
        contacts.select_related("tenant", "customer", "assigned_to").order_by(
            "sla_due", "priority", "pk"
        )[:limit]
    )


def messages_of(contact: Contact, *, after: int = 0, limit: int = 500) -> list[ContactMessage]:
    return list(
        ContactMessage.objects.for_tenant(contact.tenant_id)
        .filter(contact=contact, seq__gt=after)
        .select_related("author")
        .order_by("seq")[:limit]
    )


def profile_for(user) -> OperatorProfile | None:
    if not user.is_authenticated or user.tenant_id is None:
        return None
    return OperatorProfile.objects.for_tenant(user.tenant_id).filter(user=user).first()


def operators_for(tenant_id: int) -> list:
    """The users who may be given a client's contacts: its operators and those who answer for
    it from elsewhere."""
    return list(
        User.objects.filter(role__in=OPERATOR_ROLES, is_active=True)
        .filter(Q(tenant_id=tenant_id) | Q(clients__id=tenant_id))
        .distinct()
        .order_by("username")
    )


def contact_payload(contact: Contact) -> dict:
    """A contact as queues show it (events and the API carry this shape)."""
    tenant = contact.tenant
    return {
        "id": contact.pk,
        "number": contact.number,
        "tenant": tenant.pk,
        "client": tenant.name,
        "client_colour": tenant.brand_color,
        "time_zone": tenant.time_zone,  # times on every screen in the client's zone
        "channel": contact.channel,
        "status": contact.status,
        "priority": contact.priority,
        "language": contact.language,
        "customer": contact.customer_id,
        "customer_name": contact.customer.name if contact.customer_id else "",
        "sender": contact.sender or contact.visitor_name,
        "subject": contact.subject,
        "offline": contact.offline,
        "sla_due": contact.sla_due.isoformat(),
        "assigned_to": contact.assigned_to_id,
        "assigned_name": _name(contact.assigned_to) if contact.assigned_to_id else "",
        "request": contact.request_id,
        "created_at": contact.created_at.isoformat() if contact.created_at else None,
        "first_response_at": _iso(contact.first_response_at),
        "done_at": _iso(contact.done_at),
        "last_message_at": _iso(contact.last_message_at),
        "version": contact.version,
    }


def message_payload(message: ContactMessage, *, for_visitor: bool = False) -> dict:
    """A message as chat screens show it. A visitor sees no internal note and no operator's
    full name (the first name only, as a technician's on the tracking page)."""
    author = message.author
    if author is None:
        name = ""
    elif for_visitor:
        name = author.first_name or ""
    else:
        name = _name(author)
    return {
        "seq": message.seq,
        "direction": message.direction,
        "body": message.body,
        "author": name,
        "attachment": bool(message.attachment),
        "attachment_type": message.attachment_type,
        "at": message.created_at.isoformat() if message.created_at else None,
    }


def transcript(contact: Contact) -> str:
    """The conversation as text, for the request's history."""
    lines = []
    for message in messages_of(contact):
        if message.direction == ContactMessage.Direction.NOTE:
            continue
        at = timezone.localtime(message.created_at, contact.tenant.zone).strftime("%H:%M")
        who = (
            _name(message.author)
            if message.direction == ContactMessage.Direction.OUTBOUND and message.author
            else (contact.visitor_name or contact.sender or "—")
        )
        body = message.body or ("[" + (message.attachment_type or "file") + "]")
        lines.append(f"[{at}] {who}: {body}")
    return "\n".join(lines)


def _name(user) -> str:
    return user.get_full_name() or user.username


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
