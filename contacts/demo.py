"""Demo data of the contact center: each client's chat open round the clock with a readable
widget key, a few contacts waiting in the queue, and weeks of handled ones behind them so the
contact-center figures have something to show."""

import random
from datetime import timedelta
from unittest import mock

from django.utils import timezone

from accounts.models import Tenant
from contacts.models import ContactMessage, ContactSettings, OperatorProfile
from contacts.services import (
    contact_create,
    contact_receive,
    contact_reply,
    message_add,
    status_set,
)
from requests_app.models import Customer

HISTORY_DAYS = 28
ANSWERS = [
    "Thank you, we are looking into it.",
    "A technician is booked; you will get a link with the window.",
    "Done on our side: please restart the router.",
]
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
    # Weeks of handled contacts first: the contact-center figures have a history, and none of
    # them is still open to take in the live ones below.
    _seed_history(rng, tenant, customers, operator)
    for channel, text in MESSAGES:
        customer = rng.choice(customers)
        sender = customer.email if channel == "email" else customer.phone
        contact_receive(tenant=tenant, channel=channel, sender=sender, body=text, customer=customer)
    chat = contact_create(tenant=tenant, channel="chat", visitor_name="Dana")
    message_add(
        contact=chat, direction=ContactMessage.Direction.INBOUND, body="Hello, is anyone there?"
    )


def _seed_history(rng: random.Random, tenant: Tenant, customers, operator) -> None:
    """Contacts handled over the last weeks, through the same services as live ones, each at
    its own moment (first response from a few minutes to past the SLA, handled within hours)."""
    now = timezone.now()
    for days_ago in range(HISTORY_DAYS, 0, -1):
        for _n in range(rng.randint(3, 8)):
            received = now - timedelta(days=days_ago, hours=rng.uniform(0, 10))
            channel = rng.choices(["chat", "email", "sms"], weights=[5, 3, 2])[0]
            customer = rng.choice(customers)
            with mock.patch("django.utils.timezone.now", return_value=received):
                if channel == "chat":
                    contact = contact_create(
                        tenant=tenant, channel="chat", visitor_name=customer.name.split()[0]
                    )
                    message_add(
                        contact=contact,
                        direction=ContactMessage.Direction.INBOUND,
                        body=rng.choice(MESSAGES)[1],
                    )
                else:
                    sender = customer.email if channel == "email" else customer.phone
                    contact = contact_receive(
                        tenant=tenant,
                        channel=channel,
                        sender=sender,
                        body=rng.choice(MESSAGES)[1],
                        customer=customer,
                    )
            answered = received + timedelta(minutes=rng.expovariate(1 / 12))
            with mock.patch("django.utils.timezone.now", return_value=answered):
                contact_reply(contact=contact, author=operator, body=rng.choice(ANSWERS))
            done = answered + timedelta(minutes=rng.uniform(3, 90))
            with mock.patch("django.utils.timezone.now", return_value=done):
                status_set(contact=contact, status="done", actor=operator)
