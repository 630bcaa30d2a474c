"""A visit that could not complete: the request always gets its next step."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.engine.planner import plan_day
from notifications.models import Notification
from requests_app.booking import customer_may_change, request_reschedule
from requests_app.models import ServiceRequest
from technicians.models import Visit
from technicians.services import visit_transition
from tests.dispatch.test_assignment import emergency
from tests.factories import RequestFactory, TechnicianFactory
from tests.intake.helpers import booked_visit

pytestmark = pytest.mark.django_db


def fail(visit: Visit, reason: str) -> ServiceRequest:
    for step in ("accepted", "en_route", "on_site"):
        visit_transition(visit=visit, to=step)
    visit_transition(visit=visit, to="not_completed", reason=reason)
    return ServiceRequest.objects.get(pk=visit.request_id)


def emergency_visit(tenant) -> Visit:
    from dispatch.engine.emergency import request_assign

    request = emergency(tenant)
    request_assign(request_id=request.pk)
    return Visit.objects.get(request=request)


@pytest.mark.parametrize("reason", ["parts_missing", "needs_other_skill", "network_fault"])
def test_an_emergency_that_needs_another_visit_goes_back_to_the_engine(
    tenant, reason, django_capture_on_commit_callbacks
):
    TechnicianFactory(tenant=tenant)
    visit = emergency_visit(tenant)

    with django_capture_on_commit_callbacks() as callbacks:
        request = fail(visit, reason)

    assert request.status == ServiceRequest.Status.NEW
    assert callbacks, "the engine is asked to assign it again"
    last = request.status_changes.order_by("pk").last()
    assert last.to_status == "new" and str(Visit.Reason(reason).label) in last.reason


@pytest.mark.parametrize("reason", ["customer_absent", "no_access"])
def test_an_emergency_whose_customer_was_out_goes_to_dispatchers(tenant, reason):
    TechnicianFactory(tenant=tenant)

    request = fail(emergency_visit(tenant), reason)

    assert request.status == ServiceRequest.Status.ESCALATED


def test_a_refused_job_stays_not_completed(tenant):
    TechnicianFactory(tenant=tenant)

    request = fail(emergency_visit(tenant), "customer_refused")

    assert request.status == ServiceRequest.Status.NOT_COMPLETED


def test_a_planned_visit_waits_for_a_new_window_and_the_customer_may_choose_it(tenant):
    technician = TechnicianFactory(tenant=tenant)
    customer = RequestFactory(tenant=tenant).customer
    request = booked_visit(tenant, customer, technician, start_in_past_hour(tenant))
    visit = Visit.objects.get(request=request)

    request = fail(visit, "parts_missing")

    assert request.status == ServiceRequest.Status.RESCHEDULED
    assert customer_may_change(request)
    message = Notification.objects.get(request=request, kind="follow_up_window")
    assert "?change=1" in message.body


def start_in_past_hour(tenant):
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.now() - timedelta(minutes=30)).replace(second=0, microsecond=0)


def test_the_technician_who_could_not_finish_is_not_sent_again(tenant):
    from dispatch.engine.emergency import request_assign
    from dispatch.models import Decision
    from tests.dispatch.test_assignment import FAR, NEAR

    near = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    other = TechnicianFactory(tenant=tenant, home_lat=FAR[0], home_lon=FAR[1])
    first = emergency_visit(tenant)
    assert first.technician == near

    request = fail(first, "parts_missing")
    assert request_assign(request_id=request.pk) == "assigned"

    again = Visit.objects.get(request=request, status__in=Visit.ACTIVE)
    assert again.technician == other
    excluded = Decision.objects.filter(request=request).order_by("pk").last().excluded
    assert {"technician_id": near.pk, "reason": "could_not_complete_before"}.items() <= next(
        e for e in excluded if e["technician_id"] == near.pk
    ).items()


def test_a_planned_visit_that_could_not_complete_is_not_planned_again_into_its_old_window(tenant):
    technician = TechnicianFactory(tenant=tenant)
    customer = RequestFactory(tenant=tenant).customer
    request = booked_visit(tenant, customer, technician, start_in_past_hour(tenant))
    request = fail(Visit.objects.get(request=request), "customer_absent")

    replan_today(tenant)
    replan_today(tenant)

    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.RESCHEDULED
    assert not Visit.objects.filter(request=request, status__in=Visit.ACTIVE).exists()


@pytest.fixture
def at_noon():
    """Today at 12:00 in the tenant's zone: at night the hour just past is outside the client's
    visit hours, and no window there can be booked again."""
    from unittest import mock

    from django.utils import timezone

    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    with mock.patch("django.utils.timezone.now", return_value=noon):
        yield noon


def test_rebooked_into_the_same_window_it_goes_to_another_technician(tenant, at_noon):
    at_the_door = TechnicianFactory(tenant=tenant)
    TechnicianFactory(tenant=tenant, home_lat=43.26, home_lon=76.92)
    customer = RequestFactory(tenant=tenant).customer
    request = booked_visit(tenant, customer, at_the_door, start_in_past_hour(tenant))
    request = fail(Visit.objects.get(request=request), "customer_absent")

    request_reschedule(service_request=request, window=(request.window_start, request.window_end))

    again = Visit.objects.get(request=request, status__in=Visit.ACTIVE)
    assert again.technician != at_the_door


def test_a_re_plan_never_hands_it_back_to_the_technician_who_failed_in_that_window(tenant):
    at_the_door = TechnicianFactory(tenant=tenant)
    other = TechnicianFactory(tenant=tenant, home_lat=43.26, home_lon=76.92)
    customer = RequestFactory(tenant=tenant).customer
    request = booked_visit(tenant, customer, at_the_door, start_in_past_hour(tenant))
    request = fail(Visit.objects.get(request=request), "customer_absent")
    rebooked = Visit.objects.create(
        tenant=tenant,
        request=request,
        technician=other,
        planned_start=request.window_start + timedelta(minutes=45),
        planned_end=request.window_start + timedelta(minutes=105),
    )
    ServiceRequest.objects.filter(pk=request.pk).update(status="assigned")

    replan_today(tenant)

    assert Visit.objects.get(request=request, status__in=Visit.ACTIVE).technician == other
    rebooked.refresh_from_db()
    assert rebooked.is_active


def replan_today(tenant):
    return plan_day(tenant_id=tenant.pk, day=timezone.localdate(timezone=tenant.zone), time_limit=1)
