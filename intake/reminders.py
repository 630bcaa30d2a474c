"""Visit reminders: the day before, the customer is asked to confirm or choose another time."""

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from intake.inbound import change_url, window_parts
from notifications.models import Notification
from notifications.services import notification_enqueue
from requests_app.models import ServiceRequest
from requests_app.services import customer_language
from requests_app.states import OPEN
from technicians.models import Visit

AHEAD = timedelta(hours=24)


def requests_to_remind(*, now: datetime) -> list[ServiceRequest]:
    """Open planned requests holding a visit whose agreed window starts within a day."""
    return list(
        ServiceRequest.objects.filter(
            kind=ServiceRequest.Kind.PLANNED,
            status__in=OPEN,
            window_start__gt=now,
            window_start__lte=now + AHEAD,
            visits__status__in=Visit.ACTIVE,
        )
        .select_related("tenant", "customer")
        .distinct()
        .order_by("window_start", "pk")
    )


def visit_reminders_send(*, now: datetime | None = None) -> int:
    """Enqueue one reminder per request and window; how many were new. The outbox's dedupe key
    makes a second run (or a retried task) send nothing twice, and a moved window a new one."""
    sent = 0
    for request in requests_to_remind(now=now or timezone.now()):
        sent += visit_reminder_send(request=request) is not None
    return sent


def visit_reminder_send(*, request: ServiceRequest) -> Notification | None:
    tenant, customer = request.tenant, request.customer
    by_sms = bool(customer.phone)
    with override(customer_language(request, tenant)), timezone.override(tenant.zone):
        words = {"tenant": tenant.name, **window_parts(request)}
        if by_sms:
            text = _(
                "%(tenant)s: Reminder of your visit %(number)s on %(day)s between %(start)s "
                "and %(end)s. Reply 1 to confirm, 2 to choose another time."
            )
        else:
            # An e-mail reply would read as a new request: the link does what "2" does by SMS.
            text = _(
                "%(tenant)s: Reminder of your visit %(number)s on %(day)s between %(start)s "
                "and %(end)s. To choose another time: %(link)s"
            )
            words["link"] = change_url(request)
        body = text % words
        subject = _("Reminder: your visit %(number)s") % {"number": request.number}
    return notification_enqueue(
        tenant_id=tenant.pk,
        channel=Notification.Channel.SMS if by_sms else Notification.Channel.EMAIL,
        recipient=customer.phone or customer.email,
        subject=subject,
        body=body,
        kind="visit_reminder",
        dedupe_key=f"reminder:{request.pk}:{request.window_start.isoformat()}",
        request=request,
    )
