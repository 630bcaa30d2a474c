"""Database helpers the speed-sensitive paths share: constraint names, deferring a constraint to
commit, and advisory locks under one key scheme.

Advisory locks are PostgreSQL's two-part `(scope, key)` form: the scope says what is locked (a
`LockScope`), the key is a stable 32-bit hash of the parts that name it (a tenant and a day, a
grid cell). Two scopes never share a key space, so a planner never waits for a booking.
"""

import zlib
from collections.abc import Iterable
from enum import IntEnum

from django.db import connection


class Constraint:
    """Names of the database constraints code refers to (models declare them with these)."""

    VISIT_NO_OVERLAP = "visit_no_overlap_per_technician"  # a technician is in one place at once
    EVENT_SEQ_UNIQUE = "event_seq_unique_per_tenant"  # live events numbered without repeats


class LockScope(IntEnum):
    WINDOW_BOOKING = 1  # bookings of one tenant and day take turns
    DAY_PLAN = 2  # one planner per tenant and day
    OUTAGE_AREA = 3  # emergencies of one outage area are grouped one at a time
    PHONE_ACTIONS = 4  # one technician's replayed phone actions are applied one at a time


def lock_key(*parts: object) -> int:
    """A stable signed 32-bit key for the parts (the same in every process, unlike `hash`)."""
    value = zlib.crc32(":".join(map(str, parts)).encode())
    return value - (1 << 32) if value >= 1 << 31 else value


def advisory_xact_lock(scope: LockScope, *parts: object) -> None:
    """Wait for the lock named by `parts`; held until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [int(scope), lock_key(*parts)])


def advisory_xact_try_lock(scope: LockScope, *parts: object) -> bool:
    """Take the lock if nobody holds it; False (at once) when someone does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [int(scope), lock_key(*parts)])
        return cursor.fetchone()[0]


def advisory_xact_locks(scope: LockScope, names: Iterable[tuple]) -> None:
    """Wait for several locks in key order (so two holders of overlapping sets never deadlock),
    in one statement: unnest keeps the array's order."""
    keys = sorted({lock_key(*parts) for parts in names})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, key) FROM unnest(%s::integer[]) AS key",
            [int(scope), keys],
        )


def constraints_deferred(*names: str) -> None:
    """Check these (deferrable) constraints at commit, not per statement: for a change written
    in several statements that may overlap each other in between."""
    _set_constraints(names, "DEFERRED")


def constraints_checked(*names: str) -> None:
    """Check these constraints now (and per statement again from here on)."""
    _set_constraints(names, "IMMEDIATE")


def _set_constraints(names: tuple[str, ...], mode: str) -> None:
    known = set(vars(Constraint).values())
    if not names or not set(names) <= known:
        raise ValueError(f"unknown constraint in {names!r}")
    with connection.cursor() as cursor:  # names from Constraint, never from input
        cursor.execute(f"SET CONSTRAINTS {', '.join(names)} {mode}")


def sequence_create(name: str, *, start: int = 1) -> None:
    """A PostgreSQL sequence (kept if it exists): numbers without a lock, never repeated. Made
    by the owner's `app_sequence_create`, as the application role may create nothing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT app_sequence_create(%s, %s)", [_identifier(name), max(1, start)])


def sequence_next(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [_identifier(name)])
        return cursor.fetchone()[0]


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum() or not name.isascii() or not name[0].isalpha():
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


# A row is visible and writable when its tenant is in the session's scope (core.tenancy). Each
# reading of the setting is a sub-select, so PostgreSQL computes it once per query (an InitPlan),
# not once per row (the cast after it keeps ANY from reading the sub-select as a set of rows).
_TENANT_VISIBLE = (
    "(SELECT current_setting('app.tenants', true) = '*') OR tenant_id = ANY ("
    "(SELECT string_to_array(current_setting('app.tenants', true), ','))::bigint[])"
)


def row_level_security_sql(table: str) -> list[str]:
    """The statements that put a table with a tenant column under row-level security, binding
    its owner too (FORCE); for the migration that adds such a table."""
    table = _identifier(table)
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS tenant_isolation ON {table}",
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING ({_TENANT_VISIBLE}) WITH CHECK ({_TENANT_VISIBLE})",
    ]
