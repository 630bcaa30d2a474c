"""The database itself refuses double bookings, whatever code path writes the rows."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from technicians.models import Visit
from tests.factories import RequestFactory

pytestmark = pytest.mark.django_db


def _visit(request, technician, start, minutes=60, status=Visit.Status.SCHEDULED):
    return Visit.objects.create(
        tenant=request.tenant,
        request=request,
        technician=technician,
        planned_start=start,
        planned_end=start + timedelta(minutes=minutes),
        status=status,
    )


def _raw_insert(request, technician, start, end):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO technicians_visit (tenant_id, request_id, technician_id, planned_start,"
            " planned_end, sequence, travel_minutes, status, pinned, reason, note, created_at,"
            " updated_at) VALUES (%s, %s, %s, %s, %s, 0, 0, 'scheduled', false, '', '', now(),"
            " now())",
            [request.tenant_id, request.pk, technician.pk, start, end],
        )


def test_two_overlapping_visits_of_one_technician_are_refused_by_postgresql_through_raw_sql(
    technician,
):
    start = timezone.now()
    first, second = RequestFactory.create_batch(2, tenant=technician.tenant)
    _raw_insert(first, technician, start, start + timedelta(hours=1))
    refused = pytest.raises(IntegrityError, match="visit_no_overlap_per_technician")
    with refused, transaction.atomic():
        _raw_insert(second, technician, start + timedelta(minutes=30), start + timedelta(hours=2))


def test_back_to_back_visits_do_not_overlap(technician):
    start = timezone.now()
    first, second = RequestFactory.create_batch(2, tenant=technician.tenant)
    _visit(first, technician, start)
    _visit(second, technician, start + timedelta(minutes=60))
    assert Visit.objects.count() == 2


def test_overlapping_visits_of_two_technicians_are_fine(technician, other_technician):
    start = timezone.now()
    first, second = RequestFactory.create_batch(2, tenant=technician.tenant)
    _visit(first, technician, start)
    _visit(second, other_technician, start)
    assert Visit.objects.count() == 2


def test_a_cancelled_visit_frees_the_technicians_time(technician):
    start = timezone.now()
    first, second = RequestFactory.create_batch(2, tenant=technician.tenant)
    _visit(first, technician, start, status=Visit.Status.CANCELLED)
    _visit(second, technician, start)
    assert Visit.objects.filter(status=Visit.Status.SCHEDULED).count() == 1


def test_a_request_cannot_have_two_active_visits(technician, other_technician):
    request = RequestFactory(tenant=technician.tenant)
    start = timezone.now()
    _visit(request, technician, start)
    with pytest.raises(IntegrityError, match="visit_one_active_per_request"), transaction.atomic():
        _visit(request, other_technician, start + timedelta(hours=3))


def test_a_request_may_get_a_new_visit_after_the_last_one_did_not_complete(technician):
    request = RequestFactory(tenant=technician.tenant)
    start = timezone.now()
    _visit(request, technician, start, status=Visit.Status.NOT_COMPLETED)
    _visit(request, technician, start + timedelta(days=1))
    assert request.visits.count() == 2


def test_an_empty_visit_is_refused(technician):
    request = RequestFactory(tenant=technician.tenant)
    with pytest.raises(IntegrityError, match="visit_not_empty"), transaction.atomic():
        _visit(request, technician, timezone.now(), minutes=0)


def test_a_half_agreed_window_is_refused(tenant):
    with pytest.raises(IntegrityError, match="request_window_well_formed"), transaction.atomic():
        RequestFactory(tenant=tenant, window_start=timezone.now())
