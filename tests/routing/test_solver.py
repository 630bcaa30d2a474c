"""The solver layer, tested through `get_solver().solve` on small hand-made days and Solomon C101.

Most days put locations on a line, `SPEED` seconds apart per unit, so travel times are obvious.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from bench.vrptw_instances import SCALE, read_bks, read_instance, to_problem
from dispatch.feasibility import check_solution
from dispatch.routing import (
    Problem,
    Solution,
    SolverJob,
    UnassignedReason,
    Vehicle,
    get_solver,
)
from dispatch.routing.keep import solve_keeping

TIME_LIMIT = 0.2
SPEED = 60  # seconds per unit of distance on the line
DAY = 10 * 3600


# The one instance the tests read, kept in the repository (tests/data/vrptw/README.md).
TEST_DATA = Path(__file__).resolve().parents[1] / "data" / "vrptw"


def line_matrix(points: list[int]) -> np.ndarray:
    positions = np.array(points)
    return SPEED * np.abs(positions[:, None] - positions[None, :])


def technician(vehicle_id: str, *, home: int = 0, **fields) -> Vehicle:
    return Vehicle(id=vehicle_id, start=home, end=home, shift_start=0, shift_end=DAY, **fields)


def job(job_id: str, location: int, **fields) -> SolverJob:
    defaults = {"service": 600, "tw_start": 0, "tw_end": DAY}
    return SolverJob(id=job_id, location=location, **(defaults | fields))


def solve(problem: Problem, name: str | None = None) -> Solution:
    solution = get_solver(name).solve(problem, time_limit=TIME_LIMIT)
    assert_plan_holds(problem, solution)
    return solution


def assert_plan_holds(problem: Problem, solution: Solution) -> None:
    """Every rule, recomputed from the problem rather than taken from the solver."""
    assert check_solution(problem, solution) == []
    jobs = {j.id: j for j in problem.jobs}
    vehicles = {v.id: v for v in problem.vehicles}
    served = [stop.job_id for route in solution.routes for stop in route.stops]
    assert sorted(served + list(solution.unassigned)) == sorted(jobs)
    for route in solution.routes:
        vehicle = vehicles[route.vehicle_id]
        clock, here = route.start, vehicle.start
        assert clock >= vehicle.shift_start
        for stop in route.stops:
            visit = jobs[stop.job_id]
            drive = clock + problem.duration[here, visit.location]
            # A break taken before the drive delays the arrival; otherwise it is exact.
            assert stop.arrival == drive if not route.breaks else stop.arrival >= drive
            assert max(stop.arrival, visit.tw_start) <= stop.start <= visit.tw_end
            assert stop.end == stop.start + visit.service
            assert visit.skills <= vehicle.skills
            assert visit.pinned_to in (None, vehicle.id)
            clock, here = stop.end, visit.location
        assert route.end >= clock + problem.duration[here, vehicle.end]
        assert route.end <= vehicle.shift_end
    assert solution.feasible
    assert solution.cost == sum(route.distance for route in solution.routes)


def test_it_keeps_every_time_window() -> None:
    rng = np.random.default_rng(7)
    points = rng.integers(0, 60, size=25).tolist()
    opens = rng.integers(0, 6 * 3600, size=24)
    jobs = [
        job(f"j{k}", k + 1, tw_start=int(opens[k]), tw_end=int(opens[k]) + 2 * 3600)
        for k in range(24)
    ]
    problem = Problem(
        vehicles=[technician(name) for name in ("ann", "bob", "cem")],
        jobs=jobs,
        duration=line_matrix(points),
    )

    solution = solve(problem)

    assert not solution.unassigned


def test_a_job_needing_a_skill_goes_only_to_a_qualified_vehicle() -> None:
    # The gas jobs sit at bob's home, but only ann is certified.
    gas = frozenset({"gas"})
    problem = Problem(
        vehicles=[technician("ann", home=0, skills=gas), technician("bob", home=1)],
        jobs=[job(f"gas{k}", 1, skills=gas) for k in range(3)] + [job("plain", 1)],
        duration=line_matrix([0, 100]),
    )

    solution = solve(problem)

    assert {"gas0", "gas1", "gas2"} <= {stop.job_id for stop in solution.route_of("ann").stops}
    assert not solution.unassigned


def test_it_keeps_to_its_time_limit_when_skills_split_the_fleet() -> None:
    # Blocked arcs once cost so much that PyVRP's penalties overflowed and the first search
    # step took ten seconds on a day like this one.
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 20_000, size=(64, 2))
    metres = np.sqrt(((points[:, None] - points[None]) ** 2).sum(axis=-1)).astype(np.int64)
    trades = [frozenset({"gas"}), frozenset({"electric"})]
    problem = Problem(
        vehicles=[technician(f"t{k}", home=60 + k, skills=trades[k % 2]) for k in range(4)],
        jobs=[
            job(f"j{k}", k, service=1800, skills=trades[k % 2] if k % 3 == 0 else frozenset())
            for k in range(60)
        ],
        duration=metres // 10,
    )

    solution = solve(problem)

    assert solution.runtime_s < TIME_LIMIT + 1


def test_a_pinned_job_stays_on_its_vehicle() -> None:
    # The follow-up is next door to ann, but it is bob's: he drives across town for it.
    problem = Problem(
        vehicles=[technician("ann", home=0), technician("bob", home=1)],
        jobs=[job("follow-up", 2, pinned_to="bob")],
        duration=line_matrix([0, 100, 1]),
    )

    solution = solve(problem)

    assert [stop.job_id for stop in solution.route_of("bob").stops] == ["follow-up"]
    assert solution.route_of("ann") is None


@pytest.mark.parametrize("name", ["pyvrp", "vroom"])
def test_a_re_plan_keeps_a_job_on_its_current_vehicle_while_it_fits_there(name: str) -> None:
    # The job is next door to ann, but bob holds it in the current plan and still has room;
    # the new job goes wherever it fits best.
    problem = Problem(
        vehicles=[technician("ann", home=0), technician("bob", home=1)],
        jobs=[job("booked", 2, current_vehicle="bob"), job("new", 3)],
        duration=line_matrix([0, 100, 1, 2]),
    )

    solution = solve_keeping(problem, solver=get_solver(name), time_limit=TIME_LIMIT)

    assert_plan_holds(problem, solution)
    assert "booked" in [stop.job_id for stop in solution.route_of("bob").stops]
    assert solution.unassigned == {}


@pytest.mark.parametrize("name", ["pyvrp", "vroom"])
def test_a_re_plan_moves_a_job_its_current_vehicle_can_no_longer_hold(name: str) -> None:
    # Bob's shift now ends before he could reach the job: ann takes it instead of nobody.
    problem = Problem(
        vehicles=[
            technician("ann", home=0),
            Vehicle(id="bob", start=1, end=1, shift_start=0, shift_end=600),
        ],
        jobs=[job("booked", 2, current_vehicle="bob", tw_start=3600)],
        duration=line_matrix([0, 100, 1]),
    )

    solution = solve_keeping(problem, solver=get_solver(name), time_limit=TIME_LIMIT)

    assert_plan_holds(problem, solution)
    assert [stop.job_id for stop in solution.route_of("ann").stops] == ["booked"]
    assert solution.unassigned == {}


def test_an_unreachable_job_is_left_unassigned_with_its_reason() -> None:
    # 100 units away is 100 minutes; the window closes after 30.
    problem = Problem(
        vehicles=[technician("ann")],
        jobs=[job("too-soon", 1, tw_end=30 * 60), job("fine", 1)],
        duration=line_matrix([0, 100]),
    )

    solution = solve(problem)

    assert solution.unassigned == {"too-soon": UnassignedReason.UNREACHABLE}


def test_a_job_nobody_is_qualified_for_is_left_unassigned_for_skills() -> None:
    problem = Problem(
        vehicles=[technician("ann", skills=frozenset({"gas"}))],
        jobs=[job("rewire", 1, skills=frozenset({"electric"}))],
        duration=line_matrix([0, 5]),
    )

    solution = solve(problem)

    assert solution.unassigned == {"rewire": UnassignedReason.SKILLS}
    assert solution.routes == []


def test_a_job_pinned_to_someone_off_shift_is_left_unassigned() -> None:
    problem = Problem(
        vehicles=[technician("ann")],
        jobs=[job("follow-up", 1, pinned_to="carl")],
        duration=line_matrix([0, 5]),
    )

    solution = solve(problem)

    assert solution.unassigned == {"follow-up": UnassignedReason.PINNED_VEHICLE_UNAVAILABLE}


def test_jobs_that_do_not_fit_the_day_are_left_unassigned_for_capacity() -> None:
    # Four hours of shift, ten one-hour jobs next door: at most four fit.
    vehicle = Vehicle(id="ann", start=0, end=0, shift_start=0, shift_end=4 * 3600)
    problem = Problem(
        vehicles=[vehicle],
        jobs=[job(f"j{k}", 1, service=3600) for k in range(10)],
        duration=line_matrix([0, 0]),
    )

    solution = solve(problem)

    assert len(solution.route_of("ann").stops) == 4
    assert set(solution.unassigned.values()) == {UnassignedReason.NO_CAPACITY}


def test_jobs_that_clash_in_time_leave_one_unassigned() -> None:
    # Enough hours in the day, but both customers want the same ten minutes, far apart.
    problem = Problem(
        vehicles=[technician("ann")],
        jobs=[job(name, k + 1, tw_start=3600, tw_end=4200) for k, name in enumerate("ab")],
        duration=line_matrix([0, 30, -30]),
    )

    solution = solve(problem)

    assert len(solution.route_of("ann").stops) == 1
    assert list(solution.unassigned.values()) == [UnassignedReason.NO_CAPACITY]


def test_a_qualified_technician_short_of_time_does_not_hand_work_to_an_unqualified_one() -> None:
    gas = frozenset({"gas"})
    ann = Vehicle(id="ann", start=0, end=0, shift_start=0, shift_end=3600, skills=gas)
    problem = Problem(
        vehicles=[ann, technician("bob")],
        jobs=[job(f"gas{k}", 1, service=3000, skills=gas) for k in range(2)],
        duration=line_matrix([0, 1]),
    )

    solution = solve(problem)

    assert len(solution.route_of("ann").stops) == 1
    assert solution.route_of("bob") is None
    assert list(solution.unassigned.values()) == [UnassignedReason.NO_CAPACITY]


def test_the_more_important_job_wins_when_only_one_fits() -> None:
    vehicle = Vehicle(id="ann", start=0, end=0, shift_start=0, shift_end=3600)
    problem = Problem(
        vehicles=[vehicle],
        jobs=[job("routine", 1, service=3000), job("urgent", 2, service=3000, priority=3)],
        duration=line_matrix([0, 1, 2]),
    )

    solution = solve(problem)

    assert [stop.job_id for stop in solution.route_of("ann").stops] == ["urgent"]
    assert solution.unassigned == {"routine": UnassignedReason.NO_CAPACITY}


def test_a_van_carries_no_more_than_its_capacity() -> None:
    problem = Problem(
        vehicles=[technician("ann", capacity=10), technician("bob", capacity=10)],
        jobs=[job(f"j{k}", 1, demand=4) for k in range(5)],
        duration=line_matrix([0, 3]),
    )

    solution = solve(problem)

    jobs = {j.id: j for j in problem.jobs}
    for route in solution.routes:
        assert sum(jobs[stop.job_id].demand for stop in route.stops) <= 10
    assert len(solution.unassigned) == 1


def test_routes_start_and_end_at_the_technicians_home() -> None:
    # ann sleeps at 0 but finishes at the depot (2); bob lives at 4.
    ann = Vehicle(id="ann", start=0, end=2, shift_start=0, shift_end=DAY)
    problem = Problem(
        vehicles=[ann, technician("bob", home=4)],
        jobs=[job("west", 1), job("east", 3), job("far-east", 5)],
        duration=line_matrix([0, 10, 20, 30, 40, 50]),
    )

    solution = solve(problem)

    where = {j.id: j.location for j in problem.jobs}
    for route in solution.routes:
        vehicle = next(v for v in problem.vehicles if v.id == route.vehicle_id)
        path = [vehicle.start, *(where[stop.job_id] for stop in route.stops), vehicle.end]
        assert route.travel == sum(problem.duration[a, b] for a, b in pairwise(path))
    assert solution.cost == SPEED * 60  # 0-1-2 and 4-3-5-4, or 0-1-3-2 and 4-5-4


def test_it_minimises_the_distance_matrix_and_reports_it() -> None:
    # Both orders take the same time, but one is much shorter on the distance matrix.
    duration = line_matrix([0, 1, 2])
    distance = np.array([[0, 1, 50], [50, 0, 1], [1, 50, 0]])
    problem = Problem(
        vehicles=[technician("ann")],
        jobs=[job("a", 1), job("b", 2)],
        duration=duration,
        distance=distance,
    )

    solution = solve(problem)

    assert [stop.job_id for stop in solution.route_of("ann").stops] == ["a", "b"]
    assert solution.cost == solution.route_of("ann").distance == 3


def test_an_empty_day_is_an_empty_plan() -> None:
    problem = Problem(vehicles=[technician("ann")], jobs=[], duration=line_matrix([0]))

    solution = solve(problem)

    assert solution.routes == []
    assert solution.unassigned == {}


@pytest.mark.parametrize("name", ["pyvrp", "vroom"])
def test_a_lunch_break_is_placed_inside_its_window_clear_of_every_service(name: str) -> None:
    # Services every hour from 0:00 to 9:00 would run straight through a 4:00-6:00 lunch window.
    problem = Problem(
        vehicles=[technician("ann", break_window=(4 * 3600, 6 * 3600), break_duration=1800)],
        jobs=[job(f"j{k}", 1 + k % 3, tw_start=k * 3600, tw_end=k * 3600 + 1800) for k in range(9)],
        duration=line_matrix([0, 1, 2, 3]),
    )

    solution = solve(problem, name)

    (lunch,) = solution.route_of("ann").breaks
    assert 4 * 3600 <= lunch.start <= 6 * 3600 and lunch.end - lunch.start == 1800
    for stop in solution.route_of("ann").stops:
        assert stop.end <= lunch.start or stop.start >= lunch.end
    assert len(solution.unassigned) <= 1 and solution.feasible


@pytest.mark.parametrize("name", ["pyvrp", "vroom"])
def test_a_route_that_cannot_take_its_break_drops_the_fewest_jobs(name: str) -> None:
    # Back-to-back services fill 3:00-7:00 exactly, so the 4:00-6:00 lunch needs one of them out.
    jobs = [
        job(f"j{k}", 1, service=3600, tw_start=(3 + k) * 3600, tw_end=(3 + k) * 3600)
        for k in range(4)
    ]
    problem = Problem(
        vehicles=[technician("ann", break_window=(4 * 3600, 6 * 3600), break_duration=1800)],
        jobs=jobs,
        duration=line_matrix([0, 0]),
    )

    solution = solve(problem, name)

    assert len(solution.route_of("ann").stops) == 3 and len(solution.unassigned) == 1
    assert solution.feasible and solution.route_of("ann").breaks


@pytest.mark.parametrize("name", ["pyvrp", "vroom"])
def test_a_job_only_one_technician_can_do_is_not_left_out_while_they_have_room(name: str) -> None:
    problem = Problem(
        vehicles=[
            technician("ann", skills=frozenset({"fiber", "copper"})),
            *(technician(f"t{k}", skills=frozenset({"copper"})) for k in range(3)),
        ],
        jobs=[
            job("rare", 5, skills=frozenset({"fiber"}), tw_start=3600, tw_end=7200),
            *(job(f"c{k}", 1 + k % 4, skills=frozenset({"copper"})) for k in range(12)),
        ],
        duration=line_matrix([0, 1, 2, 3, 4, 5]),
    )

    solution = solve(problem, name)

    assert "rare" in {stop.job_id for stop in solution.route_of("ann").stops}
    assert solution.unassigned == {}


def test_an_unknown_solver_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown solver"):
        get_solver("cplex")


def test_a_problem_refuses_a_matrix_that_is_not_square() -> None:
    with pytest.raises(ValueError, match="square"):
        Problem(vehicles=[], jobs=[], duration=np.zeros((2, 3), dtype=int))


def test_it_solves_solomon_c101_within_two_percent_of_the_best_known() -> None:
    instance = read_instance(TEST_DATA / "solomon" / "C101.txt")
    problem = to_problem(instance)

    solution = get_solver().solve(problem, time_limit=2.0)

    assert_plan_holds(problem, solution)
    assert not solution.unassigned
    gap = (solution.cost / SCALE) / read_bks(TEST_DATA / "bks.csv")["C101"] - 1
    assert gap <= 0.02


def test_the_default_solver_plans_a_day_with_breaks_on_vroom_and_any_other_on_pyvrp() -> None:
    lunch = {"break_window": (4 * 3600, 6 * 3600), "break_duration": 1800}
    matrix = line_matrix([0, 1])
    with_lunch = Problem(vehicles=[technician("ann", **lunch)], jobs=[job("a", 1)], duration=matrix)
    plain = Problem(vehicles=[technician("ann")], jobs=[job("a", 1)], duration=matrix)
    limited = Problem(
        vehicles=[technician("ann", max_duration=DAY // 2, **lunch)],
        jobs=[job("a", 1)],
        duration=matrix,
    )

    assert solve(with_lunch).solver == "vroom"
    assert solve(plain).solver == "pyvrp"
    assert solve(limited).solver == "pyvrp"
