"""Contact-center work in the background: ids in, idempotent (a second run finds it done)."""

from config.celery import task
from contacts import campaigns


@task(queue="notify", time_limit=120)
def send_due_campaign_messages() -> int:
    """Beat: send the campaign messages that waited for the end of quiet hours."""
    sent = 0
    for message_id in campaigns.campaign_messages_due():
        sent += campaigns.campaign_message_send_due(message_id=message_id) == "sent"
    return sent
