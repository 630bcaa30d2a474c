"""Channel-layer group names: one function per audience, used by broadcasters and consumers."""


def dispatchers(tenant_id: int) -> str:
    return f"tenant.{tenant_id}.dispatch"


def technician(technician_id: int) -> str:
    return f"technician.{technician_id}"


def session(session_key: str) -> str:
    """Every socket one browser session opened: closed together when it signs out."""
    return f"session.{session_key}"


def contact_center(tenant_id: int) -> str:
    """The operators and supervisors who answer a client's contacts: its queue's changes."""
    return f"tenant.{tenant_id}.contacts"


def conversation(contact_id: int) -> str:
    """One contact's conversation: its visitor's socket and the operators who have it open."""
    return f"contact.{contact_id}"
