"""Outbound campaigns on a client's behalf: one message per customer through the notification
outbox, in the client's name and its customers' language; never to a customer who opted out
(the surveys' opt-out: a STOP by SMS or the link's button), never in the client's quiet hours
(the surveys' rule: those messages wait for the end of them and a beat task sends them)."""

from datetime import datetime

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import Tenant, User
from contacts.models import Campaign, CampaignMessage
from contacts.selectors import settings_for
from core.errors import DomainError
from notifications.services import notifications_enqueue
from requests_app.models import Customer
from surveys.services import opted_out, quiet_until

Status = CampaignMessage.Status
MAX_SMS = 480


@transaction.atomic
def campaign_create(
    *, tenant: Tenant, name: str, channel: str, body: str, subject: str = "", actor: User
) -> Campaign:
    if channel not in Campaign.Channel.values:
        raise DomainError(
            _("“%(value)s” is not a valid choice.") % {"value": channel}, field="channel"
        )
    body = body.strip()
    if not body:
        raise DomainError(_("Write the message."), field="body")
    if channel == Campaign.Channel.SMS and len(body) > MAX_SMS:
        raise DomainError(
            _("An SMS campaign's message is at most %(n)s characters.") % {"n": MAX_SMS},
            field="body",
        )
    return Campaign.objects.create(
        tenant=tenant,
        name=name.strip()[:120] or body[:40],
        channel=channel,
        subject=subject.strip()[:200],
        body=body,
        created_by=actor,
    )


@transaction.atomic
def campaign_launch(
    *, campaign: Campaign, customers: list[Customer] | None = None, now: datetime | None = None
) -> dict[str, int]:
    """A message for each customer (the client's every customer when none are named): sent at
    once, held for the end of quiet hours, or skipped (opted out, nowhere to send). Launching
    again reaches only customers not reached before."""
    now = now or timezone.now()
    tenant = campaign.tenant
    if customers is None:
        customers = list(Customer.objects.for_tenant(tenant).order_by("pk"))
    if any(customer.tenant_id != tenant.pk for customer in customers):
        raise DomainError(_("A customer belongs to another client."), field="customers")
    done = set(
        CampaignMessage.objects.filter(campaign=campaign).values_list("customer_id", flat=True)
    )
    wait = quiet_until(now, tenant, settings_for(tenant))
    rows, counts = [], {Status.SENT: 0, Status.SCHEDULED: 0, Status.SKIPPED: 0}
    for customer in customers:
        if customer.pk in done:
            continue
        recipient = customer.phone if campaign.channel == Campaign.Channel.SMS else customer.email
        reason = ""
        if not recipient:
            reason = "no_address"
        elif opted_out(tenant_id=tenant.pk, phone=customer.phone, email=customer.email):
            reason = "opted_out"
        status = Status.SKIPPED if reason else (Status.SCHEDULED if wait else Status.SENT)
        counts[status] += 1
        rows.append(
            CampaignMessage(
                tenant=tenant,
                campaign=campaign,
                customer=customer,
                recipient=recipient,
                status=status,
                skip_reason=reason,
                send_after=wait if status == Status.SCHEDULED else None,
            )
        )
    created = CampaignMessage.objects.bulk_create(rows)
    _send([row for row in created if row.status == Status.SENT], campaign)
    return {str(key): value for key, value in counts.items()}


def _send(rows: list[CampaignMessage], campaign: Campaign) -> None:
    tenant = campaign.tenant
    messages = []
    for row in rows:
        with override(row.customer.language or tenant.language):
            if campaign.channel == Campaign.Channel.SMS:
                body = _("%(tenant)s: %(text)s Reply STOP to receive no more messages.") % {
                    "tenant": tenant.name,
                    "text": campaign.body,
                }
                subject = ""
            else:
                body = campaign.body + "\n\n— " + tenant.name
                subject = campaign.subject or _("A message from %(tenant)s") % {
                    "tenant": tenant.name
                }
        messages.append(
            {
                "tenant_id": tenant.pk,
                "channel": campaign.channel,
                "recipient": row.recipient,
                "subject": subject,
                "body": body,
                "kind": "campaign",
                "dedupe_key": f"campaign:{campaign.pk}:{row.customer_id}",
            }
        )
    notifications_enqueue(messages)


def campaign_counts(campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """Messages per status of each campaign, in one query."""
    counts: dict[int, dict[str, int]] = {}
    rows = (
        CampaignMessage.objects.filter(campaign_id__in=campaign_ids)
        .values("campaign_id", "status")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        counts.setdefault(row["campaign_id"], {})[row["status"]] = row["n"]
    return counts


def campaign_messages_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        CampaignMessage.objects.filter(status=Status.SCHEDULED, send_after__lte=now)
        .order_by("send_after")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def campaign_message_send_due(*, message_id: int, now: datetime | None = None) -> str:
    """Send one message that waited for quiet hours to end. The row lock and the status make a
    second run harmless; a customer who opted out meanwhile is skipped."""
    now = now or timezone.now()
    row = (
        CampaignMessage.objects.select_for_update(skip_locked=True)
        .select_related("campaign__tenant", "customer")
        .filter(pk=message_id, status=Status.SCHEDULED)
        .first()
    )
    if row is None:
        return "skipped"
    tenant = row.campaign.tenant
    if quiet_until(now, tenant, settings_for(tenant)):
        return "waiting"
    if opted_out(tenant_id=tenant.pk, phone=row.customer.phone, email=row.customer.email):
        row.status, row.skip_reason = Status.SKIPPED, "opted_out"
        row.save(update_fields=["status", "skip_reason"])
        return "opted_out"
    row.status = Status.SENT
    row.save(update_fields=["status"])
    _send([row], row.campaign)
    return "sent"
