"""Helpers of the contact-center tests: contacts in a client's queue, operators who serve it."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import Role
from contacts.models import Contact, ContactMessage
from contacts.services import contact_create, message_add
from tests.factories import UserFactory


def contact_in(tenant, *, channel="email", body="Hello", language="", due_in=None, **fields):
    contact = contact_create(tenant=tenant, channel=channel, sender=fields.pop("sender", "a@b.kz"))
    if body:
        message_add(contact=contact, direction=ContactMessage.Direction.INBOUND, body=body)
    changes = dict(fields, language=language)
    if due_in is not None:
        changes["sla_due"] = timezone.now() + timedelta(minutes=due_in)
    Contact.objects.filter(pk=contact.pk).update(**changes)
    contact.refresh_from_db()
    return contact


def operator_of(tenant, *, username, clients=(), role=Role.OPERATOR):
    user = UserFactory(username=username, tenant=tenant, role=role)
    for client in clients:
        user.clients.add(client)
    return user
