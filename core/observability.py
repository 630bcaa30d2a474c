"""What a production team reads: logs that say which request or task wrote them, and (with
SENTRY_DSN) errors reported to Sentry.

Every log record carries `request_id` (from the proxy's X-Request-ID, or made here, and sent
back in the answer) and `task_id` (the Celery task running). With LOG_FORMAT=json (the default
in production) each record is one JSON object.
"""

import logging
import re
import uuid
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="")
task_id: ContextVar[str] = ContextVar("task_id", default="")

HEADER = "X-Request-ID"
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(HEADER, "")
        # Left set after the answer, so Django's own line about it (a 404, a 500) carries it
        # too; the next request of this thread sets its own.
        request_id.set(given if _ACCEPTABLE.match(given) else uuid.uuid4().hex)
        response = self.get_response(request)
        response[HEADER] = request_id.get()
        return response


class ContextFilter(logging.Filter):
    """Adds the request and task ids to every record (empty outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.task_id = task_id.get()
        return True


def task_started(task_id_value: str | None) -> None:
    task_id.set(task_id_value or "")


def sentry_start(dsn: str, *, environment: str, traces_sample_rate: float) -> None:
    import sentry_sdk  # only where a DSN is configured

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,  # customers' names and numbers stay here
    )
