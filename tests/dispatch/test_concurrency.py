"""Real concurrent transactions: select_for_update proves nothing inside one test transaction."""

from concurrent.futures import ThreadPoolExecutor
from itertools import combinations

import pytest
from django.db import connection

from dispatch.models import Decision
from dispatch.tasks import assign_request
from technicians.models import Visit
from tests.dispatch.test_assignment import NEAR, emergency
from tests.factories import TechnicianFactory

pytestmark = pytest.mark.django_db(transaction=True)


def in_threads(function, arguments, workers=10):
    def run(argument):
        try:
            return function(argument)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, arguments))


def test_the_same_task_delivered_ten_times_at_once_makes_one_visit(tenant):
    TechnicianFactory(tenant=tenant)
    request = emergency(tenant)

    outcomes = in_threads(lambda _: assign_request(request_id=request.pk), range(10))

    assert sorted(outcomes) == ["assigned"] + ["skipped"] * 9
    assert Visit.objects.filter(request=request).count() == 1
    assert Decision.objects.filter(request=request).count() == 1


def test_racing_emergencies_never_double_book_a_technician(tenant):
    technicians = [
        TechnicianFactory(tenant=tenant, home_lat=NEAR[0], home_lon=NEAR[1]) for _ in range(2)
    ]
    requests = [emergency(tenant, estimated_minutes=30) for _ in range(8)]

    outcomes = in_threads(lambda r: assign_request(request_id=r.pk), requests, workers=8)

    assert set(outcomes) <= {"assigned", "escalated"}
    for technician in technicians:
        visits = list(Visit.objects.filter(technician=technician, status__in=Visit.ACTIVE))
        for a, b in combinations(visits, 2):
            assert a.planned_end <= b.planned_start or b.planned_end <= a.planned_start
    for request in requests:
        request.refresh_from_db()
        assert request.status in ("assigned", "escalated")
        assert Visit.objects.filter(request=request, status__in=Visit.ACTIVE).count() <= 1
