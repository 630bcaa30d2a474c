"""DRF pieces the settings name (parser, pagination) and the filter the APIs share: bounded, so
out-of-range input is a 400 naming the parameter, never a 500. Kept apart from `core.api`, which
imports DRF's views: settings-named classes must not (DRF reads them while its views load)."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from django_filters import fields as filter_fields
from django_filters import filters
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission


class Pagination(LimitOffsetPagination):
    """limit/offset paging whose bounds are checked: a page of at most `max_limit` rows, and an
    offset PostgreSQL can take; out of range is a 400 naming the parameter, not a 500."""

    max_limit = 500
    max_offset = 2**31 - 1

    def get_limit(self, request):
        raw = request.query_params.get(self.limit_query_param)
        if raw is not None and raw.isdigit() and int(raw) > self.max_limit:
            raise ValidationError(
                {self.limit_query_param: [_("At most %(max)d.") % {"max": self.max_limit}]}
            )
        return super().get_limit(request)

    def get_offset(self, request):
        raw = request.query_params.get(self.offset_query_param)
        if raw is not None and raw.isdigit() and int(raw) > self.max_offset:
            raise ValidationError({self.offset_query_param: [_("Too large.")]})
        return super().get_offset(request)


class BoundedJSONParser(JSONParser):
    """JSON, refusing a body nested too deep for the parser (a 400, not a crash)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON body is nested too deep.")) from None


# The widest offsets clocks use (Kiribati +14:00, Baker Island -12:00); PostgreSQL refuses
# anything past ±15:59, so a wider one must be refused before the query.
MAX_UTC_OFFSET = timedelta(hours=14)


class _IsoDateTimeField(filter_fields.IsoDateTimeField):
    def to_python(self, value):
        parsed = super().to_python(value)
        offset = parsed.utcoffset() if parsed is not None else None
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class IsoDateTimeFilter(filters.IsoDateTimeFilter):
    """django-filter's ISO 8601 filter, whose out-of-range values are a 400 too."""

    field_class = _IsoDateTimeField


class SchemaVisible(BasePermission):
    """The OpenAPI schema and its docs: public in development (API_SCHEMA_PUBLIC), for
    signed-in users in production, where it would map the API for anyone."""

    def has_permission(self, request, view) -> bool:
        return settings.API_SCHEMA_PUBLIC or bool(request.user and request.user.is_authenticated)
