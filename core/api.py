"""API plumbing shared by every app: domain errors become HTTP errors in one place, and the
error answers are documented in one place too."""

import copy

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from django.views.defaults import page_not_found
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError
from core.tenancy import scope_set_for_user


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        # Django would answer a page of HTML; an API answers what it says everywhere else.
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        detail = _("The request is too large: at most %(size)s.") % {"size": limit}
        return Response({"detail": str(detail)}, status=400)
    if isinstance(exc, DomainError):
        body: dict = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body[exc.field] = [exc.message]
        body.update(exc.extra)
        return Response(body, status=exc.status_code)
    return drf_exception_handler(exc, context)


def not_found(request, exception=None):
    """`handler404` of the root URLconf: a URL no route matches (`/api/v1/visits/abc/pin/`)
    answers API clients in JSON like every other API error, and people with the site's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(_("Not found."))}, status=404)
    return page_not_found(request, exception)


class TenantScoped:
    """Every API view's first base: once DRF has authenticated the request (a session or a
    token) and checked its permissions, the view's queries run in the user's tenant scope
    (`core.tenancy`; the page middleware cannot, as it runs before a token is read)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        scope_set_for_user(request.user)


class ErrorSerializer(serializers.Serializer):
    """An error answer: a message to show and, for a broken domain rule, a code to act on."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


_ERRORS = {
    400: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description=_(
            "Invalid input: each field's messages by field name (`detail` and `code` too when "
            "a rule of the domain is broken)."
        ),
    ),
    401: OpenApiResponse(
        ErrorSerializer, description=_("Not signed in, or the token is not valid.")
    ),
    403: OpenApiResponse(ErrorSerializer, description=_("The role may not do this.")),
    415: OpenApiResponse(ErrorSerializer, description=_("The body is not JSON.")),
    404: OpenApiResponse(ErrorSerializer, description=_("Not found in the caller's tenant.")),
    409: OpenApiResponse(
        ErrorSerializer,
        description=_("The current state does not allow it (a full window, a closed request)."),
    ),
    422: OpenApiResponse(
        ErrorSerializer,
        description=_("The Idempotency-Key was already used with a different request."),
    ),
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The error answers of an operation, for `@extend_schema(responses=...)`; 401 and 403
    always (every API operation needs a signed-in user with a role); operations that take a
    body pass 415 too."""
    return {code: _ERRORS[code] for code in (401, 403, *codes)}


class ReadOnlyFieldsCached:
    """For answer serializers (read-only, the same fields for every request): ModelSerializer
    builds its fields from the model on every instance, which costs more than the answer
    itself on a busy create endpoint. The first build is kept per class and copied."""

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            cls._built_fields = built
        return copy.deepcopy(built)
