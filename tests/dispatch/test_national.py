"""A national day planned in parts through the plan queue's Celery tasks, then its boundary."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from config.celery import app
from dispatch.engine import national
from dispatch.engine.planner import plan_day
from dispatch.feasibility import check_solution
from dispatch.routing import Solution, SolverJob, UnassignedReason, Vehicle
from dispatch.routing.partition import PlainDay, part_payload, partition_day, problem_from_payload
from dispatch.travel import GreatCircle
from technicians.models import Shift, Visit
from tests.factories import CustomerFactory, RequestFactory, TechnicianFactory

TRAVEL = {"speed_kmh": 30.0, "detour": 1.3}
HOUR = 3600
pytestmark = pytest.mark.django_db  # every project task enters its tenant scope
NORTH, SOUTH = (51.13, 71.43), (43.24, 76.89)  # Astana, Almaty


@pytest.fixture(autouse=True)
def eager_celery():
    """Tasks run in this process, as a worker would run them (the live test uses a worker)."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def near(point, dlat=0.0, dlon=0.0):
    return (point[0] + dlat, point[1] + dlon)


def two_city_day() -> PlainDay:
    points = [near(NORTH), near(SOUTH)]
    points += [near(NORTH, 0.01 * k, 0.01) for k in range(4)]
    points += [near(SOUTH, -0.01 * k, 0.01) for k in range(4)]
    vehicles = [
        Vehicle(id="t1.0", start=0, end=0, shift_start=8 * HOUR, shift_end=18 * HOUR),
        Vehicle(id="t2.0", start=1, end=1, shift_start=8 * HOUR, shift_end=18 * HOUR),
    ]
    jobs = [
        SolverJob(id=f"r{k}", location=2 + k, service=1800, tw_start=9 * HOUR, tw_end=16 * HOUR)
        for k in range(8)
    ]
    return PlainDay(points=points, vehicles=vehicles, jobs=jobs, regions=["astana", "almaty"])


def test_a_two_part_day_planned_through_the_plan_tasks_serves_every_job():
    plan = national.day_solve_partitioned(
        day=two_city_day(), time_limit=1, travel=TRAVEL, part_size=1
    )

    assert [part.key for part in plan.parts] == ["almaty/0", "astana/0"]
    assert all(part.applied for part in plan.parts)
    assert plan.solution.unassigned == {}
    by_vehicle = {r.vehicle_id: {s.job_id for s in r.stops} for r in plan.solution.routes}
    assert by_vehicle == {"t1.0": {"r0", "r1", "r2", "r3"}, "t2.0": {"r4", "r5", "r6", "r7"}}


def test_each_parts_plan_is_checked_by_the_feasibility_checker():
    day = two_city_day()
    plan = national.day_solve_partitioned(day=day, time_limit=1, travel=TRAVEL, part_size=1)

    assert all(part.checked and not part.violations for part in plan.parts)
    for part in partition_day(day=day, part_size=1):
        problem = problem_from_payload(
            part_payload(day=day, part=part), matrix=GreatCircle().matrix
        )
        ids = {vehicle.id for vehicle in problem.vehicles}
        routes = [route for route in plan.solution.routes if route.vehicle_id in ids]

        assert check_solution(problem, Solution(routes=routes)) == []


def test_a_part_whose_plan_fails_the_checker_is_not_applied(monkeypatch):
    class Broken:
        kind, vehicle_id, job_id, detail = "window", "t2.0", "r4", "planted"

    def checker(problem, solution):
        return [Broken()] if any(v.id == "t2.0" for v in problem.vehicles) else []

    monkeypatch.setattr(national, "check_solution", checker)
    plan = national.day_solve_partitioned(
        day=two_city_day(), time_limit=1, travel=TRAVEL, part_size=1
    )

    failed = {part.key: part for part in plan.parts if not part.applied}
    assert list(failed) == ["almaty/0"]
    assert failed["almaty/0"].violations[0]["detail"] == "planted"
    # Neither placed nor left out: those jobs and that technician keep what they have.
    assert [route.vehicle_id for route in plan.solution.routes] == ["t1.0"]
    assert not {"r4", "r5", "r6", "r7"} & set(plan.solution.unassigned)


def test_a_job_left_out_near_a_boundary_is_served_by_the_neighbour_parts_idle_technician():
    west, east = (43.25, 76.80), (43.25, 77.00)  # 16 km apart, one city
    points = [near(west, 0.002), near(east, 0.002), near(west), near(east)]
    vehicles = [
        Vehicle(id="t1.0", start=0, end=0, shift_start=8 * HOUR, shift_end=18 * HOUR),
        Vehicle(id="t2.0", start=1, end=1, shift_start=8 * HOUR, shift_end=18 * HOUR),
    ]
    # Three one-hour jobs in the west that must all start 09:00–09:30: one technician
    # can do one. The east's only job needs a skill nobody has, so its technician stays idle.
    jobs = [
        SolverJob(id=f"w{k}", location=2, service=HOUR, tw_start=9 * HOUR, tw_end=9 * HOUR + 1800)
        for k in range(3)
    ]
    jobs.append(
        SolverJob(
            id="e0",
            location=3,
            service=HOUR,
            tw_start=9 * HOUR,
            tw_end=16 * HOUR,
            skills=frozenset({"tv"}),
        )
    )
    day = PlainDay(points=points, vehicles=vehicles, jobs=jobs, regions=["", ""])

    plan = national.day_solve_partitioned(day=day, time_limit=1, travel=TRAVEL, part_size=1)

    assert [part.key for part in plan.parts] == ["/0", "/1"]
    assert sum(part.served for part in plan.parts) == 1
    assert [part.key for part in plan.boundary] == ["/boundary"]
    east_route = plan.solution.route_of("t2.0")
    assert east_route is not None and east_route.stops[0].job_id.startswith("w")
    assert len([job for job in plan.solution.unassigned if job.startswith("w")]) == 1
    assert plan.solution.unassigned["e0"] == UnassignedReason.SKILLS


def test_the_planner_plans_a_day_larger_than_the_partition_size_in_parts(tenant, settings):
    settings.PLAN_PARTITION_SIZE = 1
    day = timezone.localdate(timezone=tenant.zone) + timedelta(days=1)

    def at(hour):
        return datetime.combine(day, time(hour), tzinfo=tenant.zone)

    for territory, home in (("astana", NORTH), ("almaty", SOUTH)):
        technician = TechnicianFactory(
            tenant=tenant, on_shift=False, home_lat=home[0], home_lon=home[1]
        )
        technician.territory = territory
        technician.save(update_fields=["territory"])
        Shift.objects.create(
            tenant=tenant, technician=technician, date=day, start=at(8), end=at(18)
        )
        for k in range(2):
            RequestFactory(
                tenant=tenant,
                window_start=at(9 + 2 * k),
                window_end=at(11 + 2 * k),
                lat=home[0] + 0.01,
                lon=home[1] + 0.01 * k,
                estimated_minutes=30,
                customer=CustomerFactory(tenant=tenant, phone="+77015550000"),
            )

    result = plan_day(tenant_id=tenant.pk, day=day, now=at(7), time_limit=1)

    assert result.assigned == 4 and result.unassigned == 0
    for visit in Visit.objects.select_related("technician", "request"):
        # Each city's jobs went to its own technician.
        assert abs(visit.request.lat - visit.technician.home_lat) < 0.1


def test_only_a_day_with_more_technicians_than_the_partition_size_is_planned_in_parts():
    day = two_city_day()  # two technicians

    assert national.is_large(day, part_size=1)
    assert not national.is_large(day, part_size=2)
