"""Writes on the outbox. Callers enqueue inside their transaction; delivery runs after commit."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import followups
from notifications import backends
from notifications.models import Notification

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6


@transaction.atomic
def notification_enqueue(
    *,
    tenant_id: int,
    channel: str,
    recipient: str,
    body: str,
    kind: str,
    dedupe_key: str,
    subject: str = "",
    request=None,
) -> Notification | None:
    """Store a message and ring delivery after commit; a second call with the same key is a
    no-op (returns None)."""
    if not recipient:
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                tenant_id=tenant_id,
                channel=channel,
                recipient=recipient,
                subject=subject,
                body=body,
                kind=kind,
                dedupe_key=dedupe_key[:120],
                request=request,
            )
    except IntegrityError:
        return None
    _deliver_after_commit([notification.pk])
    return notification


def notifications_enqueue(messages: list[dict]) -> list[Notification]:
    """`notification_enqueue` for several messages (its keyword arguments, one dict each) in
    one insert. Messages whose key was already used are skipped; should a concurrent caller
    take a key meanwhile, each message is enqueued on its own instead."""
    messages = [{**m, "dedupe_key": m["dedupe_key"][:120]} for m in messages if m["recipient"]]
    if not messages:
        return []
    keys = {message["dedupe_key"] for message in messages}
    taken = set(
        Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
    )
    fresh, seen = [], set(taken)
    for message in messages:
        if message["dedupe_key"] not in seen:
            seen.add(message["dedupe_key"])
            fresh.append(Notification(**message))
    try:
        with transaction.atomic():
            created = Notification.objects.bulk_create(fresh)
    except IntegrityError:
        created = [notification_enqueue(**message) for message in messages]
        return [notification for notification in created if notification is not None]
    if created:
        _deliver_after_commit([notification.pk for notification in created])
    return created


def _deliver_after_commit(ids: list[int]) -> None:
    """One delivery task for the messages of one change, rung after commit."""
    followups.enqueue_on_commit(followups.DELIVER_NOTIFICATIONS, notification_ids=ids)


def notification_deliver(*, notification_id: int) -> str:
    """Send one message. The row lock makes two workers never send the same message."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, status=Notification.Status.PENDING)
            .first()
        )
        if notification is None:
            return "skipped"
        notification.attempts += 1
        try:
            _send(notification)
        except Exception as error:  # any failure is an attempt: counted, backed off, given up
            if not isinstance(error, backends.DeliveryError):
                log.exception("delivery of notification %s failed", notification.pk)
            notification.last_error = f"{type(error).__name__}: {error}"[:2000]
            if notification.attempts >= MAX_ATTEMPTS:
                notification.status = Notification.Status.FAILED
            else:
                backoff = timedelta(seconds=30 * 2 ** (notification.attempts - 1))
                notification.next_attempt_at = timezone.now() + backoff
            notification.save()
            return "retry" if notification.status == Notification.Status.PENDING else "failed"
        notification.status = Notification.Status.SENT
        notification.sent_at = timezone.now()
        notification.save()
        return "sent"


def _send(notification: Notification) -> None:
    if notification.channel == Notification.Channel.EMAIL:
        try:
            backends.send_email(
                recipient=notification.recipient,
                subject=notification.subject,
                body=notification.body,
                key=notification.dedupe_key,
            )
        except OSError as error:
            raise backends.DeliveryError(str(error)) from error
    else:
        backends.SMS_BACKENDS[settings.NOTIFY_SMS_BACKEND](
            recipient=notification.recipient,
            body=notification.body,
            key=notification.dedupe_key,
        )


def due_notification_ids(*, limit: int = 200) -> list[int]:
    now = timezone.now()
    return list(
        Notification.objects.filter(status=Notification.Status.PENDING)
        .filter(next_attempt_at__lte=now)
        .values_list("pk", flat=True)[:limit]
    )
