"""A two-part day planned by a real Celery worker through the plan queue and result backend."""

import pytest

from config.celery import app
from dispatch.engine import national
from tests.dispatch.test_national import TRAVEL, two_city_day
from tests.live import stack

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_plans_each_part_of_a_two_part_day():
    app.control.purge()
    worker = stack.start_worker(stack.environment(), concurrency=2, hostname="national")
    try:
        plan = national.day_solve_partitioned(
            day=two_city_day(), time_limit=1, travel=TRAVEL, part_size=1
        )
    finally:
        stack.stop(worker)
        stack.close_other_sessions()

    assert [part.where for part in plan.parts] == ["worker", "worker"]
    assert all(part.applied for part in plan.parts)
    assert len({part.worker_pid for part in plan.parts}) >= 1
    assert plan.solution.unassigned == {}
    assert sum(len(route.stops) for route in plan.solution.routes) == 8
