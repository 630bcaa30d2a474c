"""Outage grouping: emergencies of one category near each other in space and time."""

import time
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


def test_earlier_reports_regroup_live_under_the_new_incident(tenant):
    from dispatch.models import Event

    first = report(tenant)
    second = report(tenant, north_km=0.3)

    regrouped = Event.objects.filter(kind="request.updated", payload__id=first.pk).last()
    assert regrouped.payload["incident_id"] == second.incident_id


@pytest.mark.django_db(transaction=True)
def test_a_report_waits_for_the_engine_holding_an_earlier_one_without_deadlock(tenant):
    """The engine locks a request, then the tenant's event counter; a new report nearby locks
    for grouping, then the earlier request. The two orders must not meet in a deadlock."""
    import threading

    from django.db import connection, transaction

    from dispatch.events import event_emit
    from tests.dispatch.test_concurrency import in_threads

    first = report(tenant)
    engine_holds_the_request = threading.Event()

    def engine(_):
        with transaction.atomic():
            ServiceRequest.objects.select_for_update().get(pk=first.pk)
            engine_holds_the_request.set()
            time.sleep(0.5)  # the report is now waiting for this row
            event_emit(tenant_id=tenant.pk, kind="request.updated", payload={"id": first.pk})
        return "engine done"

    def new_report(_):
        engine_holds_the_request.wait(5)
        return report(tenant, north_km=0.2).incident_id

    def either(job):
        return job(None)

    engine_result, incident_id = in_threads(either, [engine, new_report], workers=2)

    assert engine_result == "engine done"
    first.refresh_from_db()
    assert incident_id is not None and first.incident_id == incident_id
    assert connection.vendor == "postgresql"
