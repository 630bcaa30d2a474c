"""One advisory-lock key scheme and one way to defer a constraint."""

import threading

import pytest
from django.db import connection, connections, transaction

from core.db import (
    LockScope,
    advisory_xact_lock,
    advisory_xact_try_lock,
    constraints_deferred,
    lock_key,
)


def test_a_lock_key_is_the_same_in_every_process_and_fits_postgresqls_integer():
    assert lock_key(3, "2026-12-05") == lock_key(3, "2026-12-05")
    assert lock_key(3, "2026-12-05") != lock_key(4, "2026-12-05")
    keys = [lock_key(tenant, day) for tenant in range(50) for day in range(50)]
    assert all(-(2**31) <= key < 2**31 for key in keys)


def _try_elsewhere(scope: LockScope, *parts) -> bool:
    """Whether another connection can take the lock now."""
    result = []

    def other():
        try:
            with transaction.atomic():
                result.append(advisory_xact_try_lock(scope, *parts))
        finally:
            connections.close_all()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    return result[0]


@pytest.mark.django_db(transaction=True)
def test_a_held_lock_is_refused_to_others_until_commit_and_other_scopes_are_free():
    with transaction.atomic():
        advisory_xact_lock(LockScope.WINDOW_BOOKING, 1, "2026-12-05")

        assert not _try_elsewhere(LockScope.WINDOW_BOOKING, 1, "2026-12-05")
        assert _try_elsewhere(LockScope.DAY_PLAN, 1, "2026-12-05")  # a scope of its own
        assert _try_elsewhere(LockScope.WINDOW_BOOKING, 1, "2026-12-06")
    assert _try_elsewhere(LockScope.WINDOW_BOOKING, 1, "2026-12-05")


@pytest.mark.django_db
def test_only_a_known_constraint_can_be_deferred():
    with pytest.raises(ValueError, match="unknown constraint"):
        constraints_deferred("visit_no_overlap_per_technician; DROP TABLE x")
    constraints_deferred("visit_no_overlap_per_technician")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
