"""Channel-layer group names: one function per audience, used by broadcasters and consumers."""


def dispatchers(tenant_id: int) -> str:
    return f"tenant.{tenant_id}.dispatch"


def technician(technician_id: int) -> str:
    return f"technician.{technician_id}"
