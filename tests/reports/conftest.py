"""A small hand-built day for the KPI tests: 2 November 2026 in Almaty (UTC+5)."""

from datetime import date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from reports.selectors import KpiFilter
from requests_app.models import ServiceRequest, StatusChange
from technicians.models import Visit
from tests.factories import RequestFactory

ALMATY = ZoneInfo("Asia/Almaty")
DAY = date(2026, 11, 2)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ALMATY)


def make_request(tenant, *, created=None, window=None, **fields) -> ServiceRequest:
    if window:
        fields["window_start"], fields["window_end"] = window
    request = RequestFactory(tenant=tenant, **fields)
    ServiceRequest.objects.filter(pk=request.pk).update(created_at=created or at(7))
    request.refresh_from_db()
    return request


def make_visit(request, technician, *, start, minutes=60, **fields) -> Visit:
    return Visit.objects.create(
        tenant=request.tenant,
        request=request,
        technician=technician,
        planned_start=start,
        planned_end=start + timedelta(minutes=minutes),
        **fields,
    )


def change(request, to, *, when, from_status="", actor=None) -> StatusChange:
    # The audit trail may not be updated (the application role), so it is written at `when`.
    with mock.patch("django.utils.timezone.now", return_value=when):
        return StatusChange.objects.create(
            tenant=request.tenant,
            request=request,
            from_status=from_status,
            to_status=to,
            actor=actor,
        )


@pytest.fixture
def day_filter(tenant):
    return KpiFilter.for_days(tenant=tenant, first=DAY, last=DAY)
