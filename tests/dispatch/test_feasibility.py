"""The independent plan checker: a valid plan passes, each planted error is caught by kind."""

from dataclasses import replace

import numpy as np
import pytest

from dispatch.feasibility import KINDS, Violation, check_solution
from dispatch.routing import Break, Problem, Solution, SolverJob, SolverRoute, Stop, Vehicle

HOUR = 3600
# Locations: 0 home, 1 and 2 two customers; 10 minutes between any two places.
DURATION = np.full((3, 3), 600) - 600 * np.eye(3, dtype=int)


def vehicle(**changes) -> Vehicle:
    base = Vehicle(
        id="v1",
        start=0,
        end=0,
        shift_start=8 * HOUR,
        shift_end=18 * HOUR,
        skills=frozenset({"fiber"}),
        break_window=(12 * HOUR, 14 * HOUR),
        break_duration=1800,
    )
    return replace(base, **changes)


def job(job_id: str, location: int, **changes) -> SolverJob:
    base = SolverJob(
        id=job_id,
        location=location,
        service=HOUR,
        tw_start=9 * HOUR,
        tw_end=15 * HOUR,
        skills=frozenset({"fiber"}),
    )
    return replace(base, **changes)


def problem(vehicles=None, jobs=None) -> Problem:
    return Problem(
        vehicles=vehicles or [vehicle(), vehicle(id="v2", skills=frozenset())],
        jobs=jobs or [job("a", 1), job("b", 2)],
        duration=DURATION,
    )


def good_route(**changes) -> SolverRoute:
    # a: 9:00-10:00; lunch 12:00-12:30 while waiting at b; b: 13:00-14:00; home 14:10.
    base = SolverRoute(
        vehicle_id="v1",
        stops=[
            Stop(job_id="a", arrival=9 * HOUR, start=9 * HOUR, end=10 * HOUR),
            Stop(job_id="b", arrival=10 * HOUR + 600, start=13 * HOUR, end=14 * HOUR),
        ],
        start=9 * HOUR - 600,
        end=14 * HOUR + 600,
        travel=1800,
        distance=1800,
        breaks=[Break(start=12 * HOUR, end=12 * HOUR + 1800)],
    )
    return replace(base, **changes)


def solution(*routes, unassigned=None) -> Solution:
    return Solution(routes=list(routes), unassigned=unassigned or {})


def kinds(found: list[Violation]) -> set[str]:
    return {violation.kind for violation in found}


def test_a_plan_keeping_every_rule_passes():
    assert check_solution(problem(), solution(good_route())) == []


def test_a_break_taken_at_home_before_leaving_passes():
    leave = 12 * HOUR + 1800  # after lunch at home, 12:00-12:30
    route = good_route(
        stops=[
            Stop(job_id="a", arrival=leave + 600, start=leave + 600, end=leave + 4200),
            Stop(job_id="b", arrival=leave + 4800, start=leave + 4800, end=leave + 8400),
        ],
        start=leave,
        end=leave + 9000,
    )
    assert check_solution(problem(), solution(route)) == []


def test_every_kind_it_reports_is_a_known_one():
    bad = good_route(vehicle_id="v2", breaks=[], start=0, end=20 * HOUR)
    found = check_solution(problem(), solution(bad, unassigned={"zzz": "skills"}))
    assert found and kinds(found) <= KINDS


def test_it_catches_a_technician_without_the_skill():
    found = check_solution(problem(), solution(good_route(vehicle_id="v2", breaks=[])))
    assert "skills" in kinds(found)
    assert {v.job_id for v in found if v.kind == "skills"} == {"a", "b"}


def test_it_catches_a_service_starting_outside_its_window():
    jobs = [job("a", 1, tw_start=9 * HOUR, tw_end=9 * HOUR + 900), job("b", 2, tw_end=12 * HOUR)]
    found = check_solution(problem(jobs=jobs), solution(good_route()))
    assert [(v.kind, v.job_id) for v in found] == [("window", "b")]


def test_it_catches_a_route_leaving_before_the_shift_or_home_after_it():
    early = check_solution(problem([vehicle(shift_start=9 * HOUR)]), solution(good_route()))
    late = check_solution(problem([vehicle(shift_end=14 * HOUR)]), solution(good_route()))
    long = check_solution(problem([vehicle(max_duration=4 * HOUR)]), solution(good_route()))
    assert kinds(early) == kinds(late) == kinds(long) == {"shift"}


def test_it_catches_a_missing_break_a_second_one_and_one_outside_its_window():
    none = check_solution(problem(), solution(good_route(breaks=[])))
    two = good_route(breaks=[Break(start=11 * HOUR, end=11 * HOUR + 1800)] * 2)
    late = good_route(breaks=[Break(start=14 * HOUR + 600, end=14 * HOUR + 2400)])
    short = good_route(breaks=[Break(start=12 * HOUR, end=12 * HOUR + 600)])
    assert kinds(none) == {"break"}
    assert kinds(check_solution(problem(), solution(two))) == {"break"}
    assert kinds(check_solution(problem(), solution(late))) == {"break"}
    assert kinds(check_solution(problem(), solution(short))) == {"break"}


def test_it_catches_a_break_overlapping_a_service():
    route = good_route(breaks=[Break(start=13 * HOUR + 600, end=13 * HOUR + 2400)])
    found = check_solution(problem(), solution(route))
    assert kinds(found) == {"break"}


def test_it_catches_a_break_that_cuts_the_drive():
    # a ends 10:00, b starts 10:30: room for the 10-minute drive, not for a 30-minute lunch too.
    vehicles = [vehicle(break_window=(10 * HOUR, 11 * HOUR))]
    route = good_route(
        stops=[
            Stop(job_id="a", arrival=9 * HOUR, start=9 * HOUR, end=10 * HOUR),
            Stop(job_id="b", arrival=10 * HOUR + 600, start=10 * HOUR + 1800, end=11 * HOUR + 1800),
        ],
        end=11 * HOUR + 2400,
        breaks=[Break(start=10 * HOUR, end=10 * HOUR + 1800)],
    )
    assert kinds(check_solution(problem(vehicles), solution(route))) == {"travel"}


def test_it_catches_an_arrival_faster_than_the_drive():
    route = good_route(
        stops=[
            Stop(job_id="a", arrival=9 * HOUR, start=9 * HOUR, end=10 * HOUR),
            Stop(job_id="b", arrival=10 * HOUR + 60, start=13 * HOUR, end=14 * HOUR),
        ]
    )
    found = check_solution(problem(), solution(route))
    assert [(v.kind, v.job_id) for v in found] == [("travel", "b")]


def test_it_catches_a_service_cut_short_and_a_start_before_arrival():
    short = good_route(
        stops=[
            Stop(job_id="a", arrival=9 * HOUR, start=9 * HOUR, end=9 * HOUR + 600),
            good_route().stops[1],
        ]
    )
    hasty = good_route(
        stops=[
            Stop(job_id="a", arrival=9 * HOUR + 60, start=9 * HOUR, end=10 * HOUR),
            good_route().stops[1],
        ],
        start=9 * HOUR - 540,
    )
    assert kinds(check_solution(problem(), solution(short))) == {"travel"}
    assert kinds(check_solution(problem(), solution(hasty))) == {"travel"}


def test_it_catches_a_job_served_twice_or_served_and_left_out():
    twice = good_route(stops=[*good_route().stops, replace(good_route().stops[1], job_id="a")])
    found = check_solution(problem(), solution(twice))
    also_left = check_solution(problem(), solution(good_route(), unassigned={"a": "no_capacity"}))
    assert "duplicate" in kinds(found)
    assert kinds(also_left) == {"duplicate"}


def test_it_catches_a_job_neither_served_nor_left_out():
    route = good_route(stops=good_route().stops[:1], end=10 * HOUR + 600)
    found = check_solution(problem(), solution(route))
    assert [(v.kind, v.job_id) for v in found] == [("missing", "b")]
    assert check_solution(problem(), solution(route, unassigned={"b": "no_capacity"})) == []


def test_it_catches_pinned_work_on_someone_else_and_an_excluded_technician():
    pinned = [job("a", 1, pinned_to="v2"), job("b", 2)]
    excluded = [job("a", 1), job("b", 2, excluded=frozenset({"v1"}))]
    assert kinds(check_solution(problem(jobs=pinned), solution(good_route()))) == {"pinned"}
    assert kinds(check_solution(problem(jobs=excluded), solution(good_route()))) == {"excluded"}


def test_it_catches_unknown_jobs_and_technicians():
    stranger = check_solution(problem(), solution(good_route(vehicle_id="v9")))
    ghost_stop = Stop(job_id="ghost", arrival=15 * HOUR, start=15 * HOUR, end=15 * HOUR + 60)
    ghost = good_route(stops=[*good_route().stops, ghost_stop], end=15 * HOUR + 660)
    assert "unknown_vehicle" in kinds(stranger)
    assert kinds(check_solution(problem(), solution(ghost))) == {"unknown_job"}


@pytest.mark.parametrize("capacity, ok", [(2, True), (1, False)])
def test_it_catches_a_load_over_capacity(capacity, ok):
    jobs = [job("a", 1, demand=1), job("b", 2, demand=1)]
    found = check_solution(problem([vehicle(capacity=capacity)], jobs), solution(good_route()))
    assert (found == []) is ok
