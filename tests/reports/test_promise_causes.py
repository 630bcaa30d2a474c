"""The cause of a broken promise is recorded by the service that breaks it, and the report
reads it before the rules that derive one."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.engine.emergency import request_assign
from reports import selectors
from reports.models import PromiseRisk
from reports.selectors import Cause
from requests_app.services import request_flag_window_risk
from tests.dispatch.test_assignment import NEAR, emergency
from tests.dispatch.test_emergency_insertion import planned_visit
from tests.factories import TechnicianFactory
from tests.reports.conftest import at, make_request, make_visit

pytestmark = pytest.mark.django_db


def test_an_emergency_that_pushes_a_visit_past_its_window_records_a_break_in(tenant):
    only = TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1])
    now = timezone.now()
    tight = planned_visit(only, starts_in=20, window=(now, now + timedelta(minutes=50)))

    request_assign(request_id=emergency(tenant, estimated_minutes=60).pk, now=now)

    risk = PromiseRisk.objects.get()
    assert (risk.request_id, risk.technician_id) == (tight.request_id, only.pk)
    assert (risk.cause, risk.window_end) == (Cause.EMERGENCY_BREAK_IN, tight.request.window_end)


def test_a_window_flagged_twice_records_its_first_cause_only(tenant):
    request = make_request(tenant, window=(at(9), at(11)))

    request_flag_window_risk(request=request, cause=Cause.PREVIOUS_JOB_OVERRAN)
    request_flag_window_risk(request=request, cause=Cause.EMERGENCY_BREAK_IN)

    assert list(PromiseRisk.objects.values_list("cause", flat=True)) == [Cause.PREVIOUS_JOB_OVERRAN]


def test_the_recorded_cause_beats_the_derived_one(tenant, day_filter):
    tech = TechnicianFactory(tenant=tenant, on_shift=False)
    recorded = make_request(tenant, window=(at(9), at(11)))
    make_visit(recorded, tech, start=at(9), arrived_at=at(11, 30))
    request_flag_window_risk(request=recorded, cause=Cause.PREVIOUS_JOB_OVERRAN)
    derived = make_request(tenant, window=(at(13), at(15)))
    make_visit(derived, tech, start=at(13), arrived_at=at(15, 30))

    causes = {m.request_id: m.cause for m in selectors.promise_misses(f=day_filter, tenant=tenant)}

    # Without the record both would be "travel": nothing else in the rows explains them.
    assert causes == {recorded.pk: Cause.PREVIOUS_JOB_OVERRAN, derived.pk: Cause.TRAVEL}


def test_a_cause_recorded_for_an_earlier_window_does_not_explain_the_new_one(tenant, day_filter):
    tech = TechnicianFactory(tenant=tenant, on_shift=False)
    request = make_request(tenant, window=(at(7) - timedelta(days=1), at(9) - timedelta(days=1)))
    request_flag_window_risk(request=request, cause=Cause.EMERGENCY_BREAK_IN)
    type(request).objects.filter(pk=request.pk).update(window_start=at(9), window_end=at(11))
    make_visit(request, tech, start=at(9), arrived_at=at(12))

    [miss] = selectors.promise_misses(f=day_filter, tenant=tenant)

    assert miss.cause == Cause.TRAVEL
