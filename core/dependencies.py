"""When a dependency is down: which errors mean it, and the middleware that answers them.

A view that fails because PostgreSQL or Redis cannot be reached answers 503 with Retry-After
(the client may try again) instead of a traceback page; what was committed before stays
committed. The middleware covers views (with DEBUG on too, as `make up` runs); `handler500`
covers the rest in production.
"""

import logging

import redis
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
DOWN = (OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError, BrokerError)


def is_dependency_down(error: BaseException | None) -> bool:
    return isinstance(error, DOWN)


class DependencyDownMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_dependency_down(exception):
            return None
        log.warning("%s %s: a dependency is down (%r)", request.method, request.path, exception)
        return unavailable(request)


def unavailable(request: HttpRequest) -> HttpResponse:
    response = generic_error(request, 503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def generic_error(request: HttpRequest, status: int) -> HttpResponse:
    if status == 503:
        message = _("The service is briefly unavailable. Please try again in a minute.")
    else:
        message = _("Something went wrong on our side. It has been logged.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(message), "code": f"http_{status}"}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
