"""A large day cut into parts: every job and technician in exactly one, the same way each time."""

from collections import Counter

from dispatch.routing import SolverJob, Vehicle
from dispatch.routing.partition import (
    PlainDay,
    boundary_part,
    part_payload,
    partition_day,
    problem_from_payload,
)
from dispatch.travel import GreatCircle


def a_day(*, technicians=40, jobs=300, seed=3) -> PlainDay:
    """Two territories; every fifth technician has two segments (fixed work in between)."""
    import random

    rng = random.Random(seed)
    points, vehicles, day_jobs, regions = [], [], [], []

    def at(lat, lon):
        points.append((lat, lon))
        return len(points) - 1

    for t in range(technicians):
        region, base = ("north", 51.1) if t % 4 == 0 else ("south", 43.2)
        home = at(base + rng.uniform(-0.1, 0.1), 76.9 + rng.uniform(-0.15, 0.15))
        segments = 2 if t % 5 == 0 else 1
        for n in range(segments):
            vehicles.append(
                Vehicle(
                    id=f"t{t}.{n}",
                    start=home,
                    end=home,
                    shift_start=8 * 3600 + n * 5 * 3600,
                    shift_end=12 * 3600 + n * 6 * 3600,
                    skills=frozenset({"fiber"}),
                )
            )
            regions.append(region)
    for j in range(jobs):
        base = 51.1 if j % 4 == 0 else 43.2
        location = at(base + rng.uniform(-0.1, 0.1), 76.9 + rng.uniform(-0.15, 0.15))
        day_jobs.append(
            SolverJob(
                id=f"r{j}",
                location=location,
                service=1800,
                tw_start=9 * 3600,
                tw_end=17 * 3600,
                pinned_to="t1.0" if j == 7 else None,
            )
        )
    return PlainDay(points=points, vehicles=vehicles, jobs=day_jobs, regions=regions)


def test_every_job_and_every_technician_is_in_exactly_one_part():
    day = a_day()
    parts = partition_day(day=day, part_size=12)

    vehicles = Counter(i for part in parts for i in part.vehicles)
    jobs = Counter(j for part in parts for j in part.jobs)
    assert vehicles == Counter(range(len(day.vehicles)))
    assert jobs == Counter(range(len(day.jobs)))
    # 10 northern technicians fit one part; the 30 southern ones make three clusters.
    assert sorted(part.key for part in parts) == ["north/0", "south/0", "south/1", "south/2"]


def test_partitioning_the_same_day_twice_gives_the_same_parts():
    assert partition_day(day=a_day(), part_size=12) == partition_day(day=a_day(), part_size=12)


def test_a_technicians_segments_and_the_jobs_pinned_to_them_stay_in_one_part():
    day = a_day()
    parts = partition_day(day=day, part_size=12)
    owner_part = {}
    for part in parts:
        for i in part.vehicles:
            owner = day.vehicles[i].id.split(".")[0]
            assert owner_part.setdefault(owner, part.key) == part.key
    pinned_part = next(part for part in parts if 7 in part.jobs)
    assert any(day.vehicles[i].id == "t1.0" for i in pinned_part.vehicles)


def test_a_territorys_jobs_stay_in_its_parts():
    day = a_day()
    for part in partition_day(day=day, part_size=12):
        latitudes = {round(day.points[day.jobs[j].location][0]) for j in part.jobs}
        assert latitudes == ({51} if part.region == "north" else {43})


def test_a_part_travels_as_plain_data_and_comes_back_as_the_same_problem():
    import json

    day = a_day(technicians=8, jobs=30)
    part = partition_day(day=day, part_size=100)[1]
    payload = json.loads(json.dumps(part_payload(day=day, part=part)))

    problem = problem_from_payload(payload, matrix=GreatCircle().matrix)

    assert [v.id for v in problem.vehicles] == [day.vehicles[i].id for i in part.vehicles]
    assert [j.id for j in problem.jobs] == [day.jobs[j].id for j in part.jobs]
    assert problem.vehicles[0].skills == frozenset({"fiber"})
    assert len(problem.duration) == len(payload["points"])


def test_the_boundary_part_offers_left_out_jobs_the_idle_technicians_living_nearest():
    day = a_day(technicians=40, jobs=40)
    southern = [i for i in range(len(day.vehicles)) if day.regions[i] == "south"]
    part = boundary_part(day=day, region="south", left_out=[1, 2], idle=southern)

    assert part.jobs == (1, 2)
    owners = {day.vehicles[i].id.split(".")[0] for i in part.vehicles}
    assert 1 <= len(owners) <= 16
    assert boundary_part(day=day, region="south", left_out=[1], idle=[]) is None


def test_a_parts_plan_comes_back_from_json_as_the_same_solution():
    import json

    from dispatch.routing import Solution, SolverRoute, Stop, UnassignedReason
    from dispatch.routing.partition import solution_from_payload, solution_payload

    solution = Solution(
        routes=[
            SolverRoute(
                vehicle_id="t1.0",
                stops=[Stop(job_id="r1", arrival=100, start=120, end=220)],
                start=50,
                end=300,
                travel=80,
                distance=900,
            )
        ],
        unassigned={"r2": UnassignedReason.NO_CAPACITY},
        cost=900,
        solver="pyvrp",
    )

    assert solution_from_payload(json.loads(json.dumps(solution_payload(solution)))) == solution
