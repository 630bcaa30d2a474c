"""A re-plan that starts from the current plan: each booked job stays with its technician when
their route can still hold it, and only the rest is inserted where it fits.

Measured on the tight city day (bench/day.py --variant tight): re-planning every job from
scratch each hour gave 1,219 of 1,300 visits to another technician at 08:00 with nothing yet
happened. Here each technician's kept jobs are re-ordered and re-timed on their own (a search
per route, so a route that can no longer hold one of them drops the fewest), then new jobs and
the dropped ones are inserted into any route that may take them, cheapest detour first
(`repair.solution_repair`). Small problems only: pinning every job in one search would give
PyVRP a routing profile (two full matrices) per technician.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from dispatch.routing.eligibility import eligibility
from dispatch.routing.problem import Problem, Solution, UnassignedReason
from dispatch.routing.repair import solution_checked, solution_repair
from dispatch.routing.solver import Solver

ROUTES_SHARE = 0.8  # of the time limit, split between the routes; insertion takes the rest


def solve_keeping(
    problem: Problem, *, solver: Solver, time_limit: float, seed: int = 0
) -> Solution:
    """Plan `problem` keeping each job on its `current_vehicle` unless it no longer fits there.
    With no job on a vehicle yet (the day's first plan), a whole search."""
    started = time.perf_counter()
    vehicles = {vehicle.id: i for i, vehicle in enumerate(problem.vehicles)}
    kept: dict[int, list[int]] = {}
    for j, job in enumerate(problem.jobs):
        where = vehicles.get(job.current_vehicle) if job.current_vehicle else None
        free = job.pinned_to in (None, job.current_vehicle)
        if where is not None and free and job.current_vehicle not in job.excluded:
            kept.setdefault(where, []).append(j)
    if not kept:
        return solver.solve(problem, time_limit=time_limit, seed=seed)

    _, _, ruled_out = eligibility(problem)
    unassigned = {
        job.id: ruled_out.get(job.id, UnassignedReason.NO_CAPACITY) for job in problem.jobs
    }
    routes = []
    share = time_limit * ROUTES_SHARE / len(kept)
    for i, jobs in kept.items():
        part = solver.solve(_route_part(problem, i, jobs), time_limit=share, seed=seed)
        for route in part.routes:
            routes.append(route)
            for stop in route.stops:
                del unassigned[stop.job_id]
    # What was ruled out for everyone stays out; the rest may fit another route.
    solution = Solution(
        routes=routes,
        unassigned=unassigned,
        cost=sum(route.distance for route in routes),
        solver=solver.name,
    )
    solution = solution_checked(problem, solution_repair(problem, solution))
    return replace(solution, runtime_s=time.perf_counter() - started)


def _route_part(problem: Problem, vehicle: int, jobs: list[int]) -> Problem:
    """One technician and the jobs they hold, on the part of the matrices they use."""
    owner = problem.vehicles[vehicle]
    members = [problem.jobs[j] for j in jobs]
    places = sorted({owner.start, owner.end, *(job.location for job in members)})
    at = {place: k for k, place in enumerate(places)}
    cells = np.ix_(places, places)
    return Problem(
        vehicles=[replace(owner, start=at[owner.start], end=at[owner.end])],
        jobs=[
            replace(job, location=at[job.location], pinned_to=None, current_vehicle=None)
            for job in members
        ],
        duration=problem.duration[cells],
        distance=None if problem.distance is None else problem.distance[cells],
    )
