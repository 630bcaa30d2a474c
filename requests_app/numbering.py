"""Request numbers per tenant (SR-000123), from a PostgreSQL sequence of each tenant's own.

A sequence takes no lock, so bookings of one tenant never wait for each other's numbers; a
number may be skipped when a booking rolls back, and is never given twice.
"""

from core.db import sequence_create, sequence_next


def request_number_sequence(tenant_id: int) -> str:
    return f"request_number_tenant_{int(tenant_id)}"


def next_request_number(tenant_id: int) -> int:
    return sequence_next(request_number_sequence(tenant_id))


def tenant_numbering_start(sender, instance, created: bool, **kwargs) -> None:
    """Receiver of a saved tenant: a new one's requests are numbered from 1."""
    if created:
        sequence_create(request_number_sequence(instance.pk))
