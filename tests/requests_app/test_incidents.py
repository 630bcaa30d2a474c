"""Outage grouping: emergencies of one category near each other in space and time."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from requests_app.booking import request_create
from requests_app.models import ServiceRequest
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
    from core.models import Event

    report(tenant)
    second = report(tenant, north_km=0.3)

    created = Event.objects.filter(kind="request.created").order_by("seq").last()
    assert created.payload["incident_id"] == second.incident_id


def test_earlier_reports_regroup_live_under_the_new_incident(tenant):
    from core.models import Event

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

    from core.events import event_emit
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


@pytest.mark.django_db(transaction=True)
def test_grouping_locks_cover_the_reports_area_only(tenant):
    """While one report is being grouped, a report across town is not held up; one within
    the radius waits (here: gives up after a short lock timeout)."""
    import threading

    from django.db import OperationalError, connection, transaction

    from requests_app.incidents import _cos_poleward, _lock_area
    from tests.dispatch.test_concurrency import in_threads

    dlat = tenant.outage_radius_m / 1000 / 111.0
    dlon = dlat / _cos_poleward(ALMATY[0], dlat)

    def lock(north_km):
        lat = ALMATY[0] + north_km / 111.2
        _lock_area(tenant.pk, "outage", lat, ALMATY[1], dlat, dlon)

    holding, done = threading.Event(), threading.Event()

    def grouping(_):
        with transaction.atomic():
            lock(0)
            holding.set()
            done.wait(10)
        return "held"

    def other(north_km):
        holding.wait(5)
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '300ms'")
                lock(north_km)
            return "free"
        except OperationalError:
            return "waited"

    def both(_):
        outcomes = [other(20), other(1.0)]
        done.set()
        return outcomes

    held, outcomes = in_threads(lambda job: job(None), [grouping, both], workers=2)

    assert held == "held"
    assert outcomes == ["free", "waited"]


@pytest.mark.django_db(transaction=True)
def test_two_reports_of_one_outage_at_once_open_one_incident(tenant):
    from tests.dispatch.test_concurrency import in_threads

    report(tenant)  # an earlier report nearby: the next ones make it an incident
    created = in_threads(lambda km: report(tenant, north_km=km), [0.3, 0.6, 0.9, 1.2], workers=4)

    assert len({request.incident_id for request in created}) == 1
    assert created[0].incident_id is not None
