"""Outage grouping: emergencies of one category near each other in space and time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from requests_app.models import ServiceRequest
from requests_app.services import request_create
from tests.factories import ALMATY, CustomerFactory

pytestmark = pytest.mark.django_db


def report(tenant, *, north_km=0.0, category="outage"):
    customer = CustomerFactory(tenant=tenant, lat=ALMATY[0] + north_km / 111.2, lon=ALMATY[1])
    return request_create(
        tenant=tenant, customer=customer, kind="emergency", category=category, channel="phone"
    )


def test_two_reports_nearby_open_one_incident_and_a_third_joins_it(tenant):
    first = report(tenant)
    second = report(tenant, north_km=0.5)
    third = report(tenant, north_km=1.0)

    first.refresh_from_db()
    assert first.incident is not None
    assert second.incident == third.incident == first.incident
    first.incident.refresh_from_db()
    assert first.incident.reports == 3


def test_a_report_far_away_stays_on_its_own(tenant):
    report(tenant)
    far = report(tenant, north_km=5)

    assert far.incident is None


def test_another_category_is_another_problem(tenant):
    report(tenant)
    repair = report(tenant, north_km=0.2, category="repair")

    assert repair.incident is None


def test_an_old_report_does_not_group_with_a_new_one(tenant):
    old = report(tenant)
    ServiceRequest.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(minutes=tenant.outage_window_minutes + 5)
    )

    assert report(tenant, north_km=0.1).incident is None


def test_the_live_event_carries_the_incident(tenant):
    from dispatch.models import Event

    report(tenant)
    second = report(tenant, north_km=0.3)

    created = Event.objects.filter(kind="request.created").order_by("seq").last()
    assert created.payload["incident_id"] == second.incident_id
