"""Rows of an export and lookups of the reports' own rows."""

from zoneinfo import ZoneInfo

from django.db.models import (
    QuerySet,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.errors import NotFound
from reports.models import ExportJob
from reports.selectors.filters import REPORT_ROLES

# ---- Rows of an export and lookups of the reports' own rows -------------------------------

EXPORT_CHUNK = 2000


def kpi_export_headings() -> list[str]:
    return [
        str(_("Number")),
        str(_("Kind")),
        str(_("Category")),
        str(_("Channel")),
        str(_("Status")),
        str(_("Customer")),
        str(_("Created")),
    ]


def kpi_export_rows(queryset: QuerySet, zone: ZoneInfo):
    """The rows of an export, read a chunk at a time (iterator): memory stays flat."""
    for row in queryset.iterator(chunk_size=EXPORT_CHUNK):
        yield [
            row.number,
            row.get_kind_display(),
            row.get_category_display(),
            row.get_channel_display(),
            row.get_status_display(),
            row.customer.name,
            timezone.localtime(row.created_at, zone).strftime("%Y-%m-%d %H:%M"),
        ]


def get_export_for_user(user: User, pk: int):
    """An export of the user's tenant that the user asked for; 404 otherwise."""
    if not user.is_authenticated or user.role not in REPORT_ROLES:
        raise NotFound()
    found = ExportJob.objects.filter(pk=pk, requested_by=user).first()
    if found is None:
        raise NotFound()
    return found
