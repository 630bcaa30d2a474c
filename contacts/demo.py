"""Demo data of the contact center: each client's chat open round the clock with a readable
widget key, and a few contacts waiting in the queue."""

import random

from accounts.models import Tenant
from contacts.models import ContactMessage, ContactSettings, OperatorProfile
from contacts.services import contact_create, contact_receive, message_add
from requests_app.models import Customer

MESSAGES = [
    ("email", "My bill shows a TV package I never ordered."),
    ("sms", "Internet slow every evening since Monday"),
    ("email", "Can I move my line to a new flat next month?"),
    ("sms", "Router lights are all orange"),
]


def seed_contacts(rng: random.Random, tenant: Tenant, customers: list[Customer], operator) -> None:
    ContactSettings.objects.create(
        tenant=tenant,
        chat_public_key=f"pk_demo_{tenant.slug.replace('-', '_')}",
        chat_hours_start=0,
        chat_hours_end=24,
    )
    OperatorProfile.objects.create(
        tenant=tenant, user=operator, languages=["en", "ru", "kk"], presence="available"
    )
    for channel, text in MESSAGES:
        customer = rng.choice(customers)
        sender = customer.email if channel == "email" else customer.phone
        contact_receive(tenant=tenant, channel=channel, sender=sender, body=text, customer=customer)
    chat = contact_create(tenant=tenant, channel="chat", visitor_name="Dana")
    message_add(
        contact=chat, direction=ContactMessage.Direction.INBOUND, body="Hello, is anyone there?"
    )
