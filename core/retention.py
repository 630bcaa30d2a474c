"""How long the platform keeps the rows it writes for its own workings, and the purge.

Kept for a while, then deleted in batches (short transactions: no long lock on a busy table):
the live event log (screens catch up from it only minutes back), the engine's decisions (their
reasons are read for a year of KPIs), delivered or failed customer messages, idempotency
records (a retry comes within hours), inbound provider messages (replays come within minutes),
expired API tokens, the positions technicians shared en route (privacy), and photo or
signature files whose replay failed after the file was stored. Requests, visits and their
status changes are never purged here.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from core.models import Event
from dispatch.models import Decision
from fieldwork.models import LocationPing
from fieldwork.services import proof_files_orphaned_purge
from intake.models import InboundMessage
from notifications.models import Notification
from requests_app.models import IdempotencyKey

BATCH = 5000
# Far longer than any transaction that stores a file and then writes its row.
ORPHAN_AGE = timedelta(days=1)


def _purgeable(now):
    days = settings.RETENTION_DAYS
    return {
        "events": Event.objects.filter(created_at__lt=now - timedelta(days=days["events"])),
        "decisions": Decision.objects.filter(
            created_at__lt=now - timedelta(days=days["decisions"])
        ),
        "notifications": Notification.objects.exclude(status=Notification.Status.PENDING).filter(
            created_at__lt=now - timedelta(days=days["notifications"])
        ),
        "idempotency_keys": IdempotencyKey.objects.filter(
            created_at__lt=now - timedelta(days=days["idempotency_keys"])
        ),
        "inbound_messages": InboundMessage.objects.filter(
            received_at__lt=now - timedelta(days=days["inbound_messages"])
        ),
        "api_tokens": AuthToken.objects.filter(expiry__lt=now),
        "location_pings": LocationPing.objects.filter(
            received_at__lt=now - timedelta(days=days["location_pings"])
        ),
    }


def purge_expired(*, now=None) -> dict[str, int]:
    """Delete what has outlived its retention; the number of rows deleted per kind."""
    now = now or timezone.now()
    deleted = {}
    for name, rows in _purgeable(now).items():
        deleted[name] = 0
        while True:
            with transaction.atomic():
                ids = list(rows.values_list("pk", flat=True)[:BATCH])
                if not ids:
                    break
                count, _ = rows.model.objects.filter(pk__in=ids).delete()
            deleted[name] += count
    deleted["orphaned_files"] = proof_files_orphaned_purge(older_than=now - ORPHAN_AGE)
    return deleted
