"""`Idempotency-Key` on create calls: a retry gets the first answer, never a duplicate.

The key row is inserted in the same transaction as the request it creates. A concurrent retry
blocks on the unique index until the first call commits, then replays its answer; if the first
call fails, its key row rolls back with it and the retry runs afresh.
"""

import hashlib
import json
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.models import Tenant
from requests_app.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(request, *, tenant: Tenant, create: Callable[[], Response]) -> Response:
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return create()
    if len(key) > 255:
        raise ValidationError({HEADER: [_("At most 255 characters.")]})
    fingerprint = _fingerprint(request)
    with transaction.atomic():
        record_id = _claim(tenant, key, fingerprint)
        if record_id is None:  # taken by a call that committed first
            return _replay(IdempotencyKey.objects.get(tenant=tenant, key=key), fingerprint)
        response = create()
        IdempotencyKey.objects.filter(pk=record_id).update(
            status_code=response.status_code,
            response=json.loads(JSONRenderer().render(response.data)),
        )
        return response


def _claim(tenant: Tenant, key: str, fingerprint: str) -> int | None:
    """Insert the key row, or None when it exists. A concurrent call with the same key waits
    here until the first commits (then None) or rolls back (then this one claims it). One
    statement, no savepoint: the conflict is not an error."""
    table = IdempotencyKey._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tenant_id, key, fingerprint, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s) ON CONFLICT (tenant_id, key) DO NOTHING RETURNING id",
            [tenant.pk, key, fingerprint, timezone.now()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _replay(record: IdempotencyKey, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        return Response(
            {
                "detail": _("This Idempotency-Key was used with a different request."),
                "code": "idempotency_key_reused",
            },
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    return Response(record.response, status=record.status_code, headers={REPLAYED: "true"})
