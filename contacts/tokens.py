"""A chat visitor's token: signed, naming one conversation and nothing else. The visitor's page
holds it; the visitor's socket and the chat's HTTP endpoints read the contact from it alone."""

from django.core import signing

from contacts.models import Contact
from core.tenancy import every_tenant

SALT = "contacts.chat.visitor"
# A conversation is over in a day; a widget reopened later starts another.
MAX_AGE = 24 * 3600


def visitor_token(contact: Contact) -> str:
    return signing.dumps({"c": contact.pk, "k": contact.visitor_key}, salt=SALT, compress=True)


def contact_for_token(token: str) -> Contact | None:
    """The conversation a token names, or None (forged, expired, or another key): read across
    tenants, as the token is what tells which client the visitor writes to."""
    if not token or len(token) > 300:
        return None
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or type(data.get("c")) is not int:
        return None
    with every_tenant():
        contact = (
            Contact.objects.select_related("tenant")
            .filter(pk=data["c"], channel=Contact.Channel.CHAT)
            .first()
        )
    if contact is None or contact.visitor_key != data.get("k"):
        return None
    return contact
