"""VROOM backend (pyvroom): breaks, skills and optional jobs are native, so a lunch is planned
with the route instead of mended after it.

Measured on field days (bench/fieldday.py, 100 technicians x 1,000 jobs, 60 s): PyVRP plus a
break repair served 912 jobs, VROOM 972, both with every lunch placed; on the Solomon and
Homberger instances (no breaks) PyVRP stays far ahead, so `get_solver()` sends a day with breaks
here and any other to PyVRP (see `solver.py`).

How the domain lands in VROOM:
- Skills, pins and exclusions are VROOM skills: one per skill code, one per pinned job (only its
  technician has it), one per job with exclusions (everyone but the excluded has it).
- Priorities map onto VROOM's 0-100 scale; VROOM serves by priority first, then minimises cost
  (the distance matrix).
- A break is taken at a stop before the drive to the next one, never during a service.
- `max_duration` has no VROOM counterpart besides the shift; the checker guard catches a route
  that is too long (rare: the planner's vehicles are their shift).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import numpy as np
import vroom

from dispatch.routing.eligibility import eligibility
from dispatch.routing.problem import Break, Problem, Solution, SolverRoute, Stop, UnassignedReason
from dispatch.routing.repair import solution_checked, solution_repair

_UINT32_MAX = np.iinfo(np.uint32).max
EXPLORATION = 5
THREADS = 1


class VroomSolver:
    name = "vroom"

    def solve(self, problem: Problem, *, time_limit: float, seed: int = 0) -> Solution:
        started = time.perf_counter()
        allowed, servable, unassigned = eligibility(problem)
        routes: list[SolverRoute] = []
        if servable.any() and problem.vehicles:
            routes = _solve(problem, allowed, servable, time_limit=time_limit)
        served = {stop.job_id for route in routes for stop in route.stops}
        for j in np.flatnonzero(servable):
            job_id = problem.jobs[j].id
            if job_id not in served:
                unassigned.setdefault(job_id, UnassignedReason.NO_CAPACITY)
        solution = Solution(
            routes=routes,
            unassigned=unassigned,
            cost=sum(route.distance for route in routes),
            solver=self.name,
        )
        solution = solution_checked(problem, solution_repair(problem, solution))
        return replace(solution, runtime_s=time.perf_counter() - started)


def _solve(problem, allowed, servable, *, time_limit: float) -> list[SolverRoute]:
    jobs, vehicles = problem.jobs, problem.vehicles
    problem_input = vroom.Input()
    problem_input.set_durations_matrix("car", _uint32(problem.duration))
    problem_input.set_costs_matrix("car", _uint32(problem.distances))
    skills = _skills(problem, allowed, servable)
    with_load = any(job.demand for job in jobs)
    day_demand = sum(job.demand for job in jobs)
    for i, vehicle in enumerate(vehicles):
        breaks = []
        if vehicle.break_window is not None and vehicle.break_duration > 0:
            opens, closes = vehicle.break_window
            breaks = [
                vroom.Break(
                    id=i,
                    time_windows=[vroom.TimeWindow(max(0, opens), max(0, closes))],
                    service=vehicle.break_duration,
                )
            ]
        capacity = ()
        if with_load:
            capacity = [day_demand if vehicle.capacity is None else vehicle.capacity]
        problem_input.add_vehicle(
            vroom.Vehicle(
                id=i,
                start=vehicle.start,
                end=vehicle.end,
                skills=skills.vehicles[i],
                capacity=capacity,
                time_window=vroom.TimeWindow(vehicle.shift_start, vehicle.shift_end),
                breaks=breaks,
            )
        )
    top = max((job.priority for job in jobs), default=1)
    for j in np.flatnonzero(servable):
        job = jobs[j]
        problem_input.add_job(
            vroom.Job(
                id=int(j),
                location=job.location,
                default_service=job.service,
                delivery=vroom.Amount([job.demand] if with_load else []),
                skills=skills.jobs[j],
                priority=max(1, round(100 * job.priority / top)),
                time_windows=[vroom.TimeWindow(job.tw_start, job.tw_end)],
            )
        )
    answer = problem_input.solve(
        exploration_level=EXPLORATION,
        nb_threads=THREADS,
        timeout=timedelta(seconds=max(time_limit, 0.1)),
    )
    return _routes(problem, answer.routes)


class _Skills:
    def __init__(self, vehicles: list[set[int]], jobs: dict[int, set[int]]) -> None:
        self.vehicles, self.jobs = vehicles, jobs


def _skills(problem: Problem, allowed: np.ndarray, servable: np.ndarray) -> _Skills:
    """VROOM skills that allow exactly `allowed`: a job's skill codes, and for a pinned job or
    one with exclusions, a skill of its own held by the vehicles it allows."""
    codes = sorted({code for job in problem.jobs for code in job.skills})
    number = {code: k for k, code in enumerate(codes)}
    vehicles = [
        {number[code] for code in vehicle.skills if code in number} for vehicle in problem.vehicles
    ]
    jobs: dict[int, set[int]] = {}
    # Jobs allowed the same vehicles share one skill (a re-plan pins most jobs to their route).
    shared: dict[bytes, int] = {}
    for j in np.flatnonzero(servable):
        job = problem.jobs[j]
        needs = {number[code] for code in job.skills}
        if job.pinned_to is not None or job.excluded:
            key = allowed[j].tobytes()
            if key not in shared:
                shared[key] = len(codes) + len(shared)
                for i in np.flatnonzero(allowed[j]):
                    vehicles[i].add(shared[key])
            needs.add(shared[key])
        jobs[int(j)] = needs
    return _Skills(vehicles, jobs)


def _routes(problem: Problem, table) -> list[SolverRoute]:
    routes = []
    if table is None or not len(table):
        return routes
    for vehicle_index, steps in table.groupby("vehicle_id", sort=True):
        vehicle = problem.vehicles[int(vehicle_index)]
        stops, breaks, start, end = [], [], vehicle.shift_start, vehicle.shift_end
        for step in steps.itertuples():
            begins = int(step.arrival + step.waiting_time)
            if step.type == "start":
                start = int(step.arrival)
            elif step.type == "end":
                end = int(step.arrival)
            elif step.type == "job":
                job = problem.jobs[int(step.id)]
                stops.append(
                    Stop(
                        job_id=job.id,
                        arrival=int(step.arrival),
                        start=begins,
                        end=begins + job.service,
                    )
                )
            elif step.type == "break":
                breaks.append(Break(start=begins, end=begins + int(step.service)))
        if not stops:
            continue
        places = [
            vehicle.start,
            *(problem.jobs[int(s.id)].location for s in steps.itertuples() if s.type == "job"),
            vehicle.end,
        ]
        frm, to = np.array(places[:-1]), np.array(places[1:])
        routes.append(
            SolverRoute(
                vehicle_id=vehicle.id,
                stops=stops,
                start=start,
                end=end,
                travel=int(problem.duration[frm, to].sum()),
                distance=int(problem.distances[frm, to].sum()),
                breaks=breaks,
            )
        )
    return routes


def _uint32(matrix: np.ndarray) -> np.ndarray:
    return np.minimum(matrix, _UINT32_MAX).astype(np.uint32)
