"""Many customers booking the same window at once, on real PostgreSQL transactions."""

from itertools import combinations

import pytest

from core.errors import Conflict
from requests_app.models import ServiceRequest
from technicians.models import Visit
from tests.dispatch.test_concurrency import in_threads
from tests.dispatch.test_windows import at, book, crew, tomorrow
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_bookings_never_oversell_a_window(tenant):
    technicians = crew(tenant, 2, start=8, end=10)  # room for one 90-minute job each
    day = tomorrow(tenant)
    window = (at(tenant, day, 8), at(tenant, day, 10))
    customers = [CustomerFactory(tenant=tenant) for _ in range(12)]

    def attempt(customer):
        try:
            return book(tenant, customer, window, minutes=90).pk
        except Conflict:
            return "full"

    outcomes = in_threads(attempt, customers, workers=12)

    booked = [o for o in outcomes if o != "full"]
    assert len(booked) == 2
    assert ServiceRequest.objects.count() == 2  # a refused booking leaves no request behind
    visits = list(Visit.objects.filter(status__in=Visit.ACTIVE))
    assert {v.technician_id for v in visits} == {t.pk for t in technicians}
    for visit in visits:
        assert window[0] <= visit.planned_start <= window[1]
    for a, b in combinations(visits, 2):
        assert a.technician_id != b.technician_id or (
            a.planned_end <= b.planned_start or b.planned_end <= a.planned_start
        )
