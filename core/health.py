"""Is this installation ready to serve? Each check answers (ok, detail); readiness is all ok.

Liveness (`/health/live/`) only says the process answers: a load balancer restarts what is dead.
Readiness (`/health/ready/`) says whether it can do its work: the database and Redis answer,
beat is ringing (the reconciler and re-plans run), and no emergency has waited for assignment
longer than a worker would ever let it.
"""

import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from core.redis_client import UNREACHABLE, redis_client
from requests_app.selectors import oldest_waiting_emergency_at

HEARTBEAT_KEY = "dispatch:beat:heartbeat"


def beat_heartbeat_record() -> None:
    """Called by beat's heartbeat task: the time it last rang."""
    redis_client().set(HEARTBEAT_KEY, time.time(), ex=settings.HEARTBEAT_EVERY_SECONDS * 10)


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return False, type(error).__name__
    return True, "ok"


def check_redis() -> tuple[bool, str]:
    try:
        redis_client().ping()
    except UNREACHABLE as error:
        return False, type(error).__name__
    return True, "ok"


def check_beat() -> tuple[bool, str]:
    try:
        rang = redis_client().get(HEARTBEAT_KEY)
    except UNREACHABLE as error:
        return False, type(error).__name__
    if rang is None:
        return False, "no heartbeat yet"
    age = time.time() - float(rang)
    return age <= settings.HEARTBEAT_EVERY_SECONDS * 3, f"{age:.0f} s ago"


def check_oldest_emergency() -> tuple[bool, str]:
    try:
        oldest = oldest_waiting_emergency_at()
    except DatabaseError as error:
        return False, type(error).__name__
    if oldest is None:
        return True, "none waiting"
    waited = timezone.now() - oldest
    # Past overdue × attempts an emergency is escalated; waiting longer means nobody drives.
    limit = timedelta(seconds=settings.ASSIGN_OVERDUE_SECONDS * (settings.ASSIGN_MAX_ATTEMPTS + 1))
    return waited <= limit, f"{waited.total_seconds():.0f} s"


CHECKS = {
    "database": check_database,
    "redis": check_redis,
    "beat": check_beat,
    "oldest_waiting_emergency": check_oldest_emergency,
}


def readiness() -> tuple[bool, dict[str, dict]]:
    results = {name: check() for name, check in CHECKS.items()}
    report = {name: {"ok": ok, "detail": detail} for name, (ok, detail) in results.items()}
    return all(ok for ok, _ in results.values()), report
