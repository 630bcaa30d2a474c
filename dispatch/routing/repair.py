"""Repair of a solver's plan: breaks placed, routes that cannot take theirs mended, left-out jobs
re-inserted wherever a qualified technician still has room.

Solver-neutral: it reads and writes only `Problem`/`Solution`. A backend that cannot model a break
(PyVRP 0.14) plans without it, then `solution_repair` schedules every route with its break, drops
the fewest jobs from the routes that cannot take one, and tries every left-out job (those dropped
and those the solver left out, rarest skills first) in every route that may serve it, cheapest
detour first. Rare-skill jobs are the ones a solver strands: its neighbourhoods ignore skills.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np

from dispatch.feasibility import check_solution
from dispatch.routing.problem import (
    Break,
    Problem,
    Solution,
    SolverJob,
    SolverRoute,
    Stop,
    UnassignedReason,
    Vehicle,
)

# Tries of the feasibility schedule per left-out job, cheapest detours first: bounds the time of
# the repair on a day with many left-out jobs.
MAX_TRIES_PER_JOB = 80


@dataclass
class _Route:
    vehicle: Vehicle
    jobs: list[SolverJob]
    planned: SolverRoute | None


def route_schedule(
    problem: Problem, vehicle: Vehicle, jobs: Sequence[SolverJob]
) -> SolverRoute | None:
    """The earliest schedule serving `jobs` in order with the vehicle's break placed, or None.

    The break goes into one gap: at home before leaving, between two services (before the drive,
    or on arrival while waiting), or at home after coming back; the gap that brings the
    technician home first wins."""
    if not jobs:
        return None
    duration = problem.duration
    places = [vehicle.start, *(job.location for job in jobs), vehicle.end]
    drives = [int(duration[places[k], places[k + 1]]) for k in range(len(places) - 1)]
    n = len(jobs)
    # Without a break: free[k] is when activity k-1 ends (free[0]: the shift starts).
    free, starts = [vehicle.shift_start], []
    reachable = n  # the first stop whose window is missed
    for k, job in enumerate(jobs):
        start = max(free[k] + drives[k], job.tw_start)
        if start > job.tw_end:
            reachable = k
            break
        starts.append(start)
        free.append(start + job.service)
    if vehicle.break_window is None or vehicle.break_duration <= 0:
        if reachable < n or free[n] + drives[n] > vehicle.shift_end:
            return None
        return _assemble(problem, vehicle, jobs, starts, drives, None, None)

    opens, closes = vehicle.break_window
    length = vehicle.break_duration
    best = None
    for gap in range(min(reachable, n) + 1):
        placed = _break_in_gap(
            free[gap], drives[gap], opens=max(opens, vehicle.shift_start), closes=closes
        )
        if placed is None:
            continue
        brk_start, on_arrival = placed
        ready = brk_start + length + (0 if on_arrival else drives[gap])
        tail, ok = [], True
        for k in range(gap, n):
            start = max(ready, jobs[k].tw_start)
            if start > jobs[k].tw_end:
                ok = False
                break
            tail.append(start)
            ready = start + jobs[k].service + drives[k + 1]
        if not ok:
            continue
        # `ready` is now when the technician could be home (after the break, if taken last).
        home = free[n] + drives[n] if gap == n and on_arrival else ready
        if home > vehicle.shift_end or brk_start + length > vehicle.shift_end:
            continue
        if best is None or home < best[0]:
            best = (home, gap, brk_start, on_arrival, starts[:gap] + tail)
    if best is None:
        return None
    _, gap, brk_start, on_arrival, schedule = best
    return _assemble(
        problem,
        vehicle,
        jobs,
        schedule,
        drives,
        (gap, on_arrival),
        Break(start=brk_start, end=brk_start + length),
    )


def _break_in_gap(free: int, drive: int, *, opens: int, closes: int) -> tuple[int, bool] | None:
    """When a break can start in a gap that opens at `free` and holds a `drive`: on arrival
    (while waiting) when possible — it never delays service more than before the drive."""
    on_arrival = max(free + drive, opens)
    if on_arrival <= closes:
        return on_arrival, True
    before = max(free, opens)
    if before <= closes:
        return before, False
    return None


def _assemble(problem, vehicle, jobs, starts, drives, placement, brk) -> SolverRoute | None:
    n = len(jobs)
    stops = []
    for k, job in enumerate(jobs):
        if k == 0:
            arrival = None  # set below with the departure
        elif placement is not None and placement[0] == k and not placement[1]:
            arrival = brk.end + drives[k]
        else:
            arrival = starts[k - 1] + jobs[k - 1].service + drives[k]
        stops.append([job.id, arrival, starts[k], starts[k] + job.service])
    if placement is not None and placement[0] == 0:
        # On arrival at the first customer, or at home before leaving.
        leave = max(vehicle.shift_start, brk.start - drives[0]) if placement[1] else brk.end
    else:
        leave = starts[0] - drives[0]  # just in time for the first service
    stops[0][1] = min(leave + drives[0], starts[0])
    last_end = starts[-1] + jobs[-1].service
    if placement is not None and placement[0] == n and not placement[1]:
        home = brk.end + drives[n]
    else:
        home = last_end + drives[n]
    if vehicle.max_duration is not None and home - leave > vehicle.max_duration:
        return None
    path = np.array([vehicle.start, *(job.location for job in jobs), vehicle.end])
    return SolverRoute(
        vehicle_id=vehicle.id,
        stops=[Stop(job_id=j, arrival=a, start=s, end=e) for j, a, s, e in stops],
        start=leave,
        end=home,
        travel=sum(drives),
        distance=int(problem.distances[path[:-1], path[1:]].sum()),
        breaks=[] if brk is None else [brk],
    )


def may_serve(vehicle: Vehicle, job: SolverJob) -> bool:
    return (
        job.skills <= vehicle.skills
        and job.pinned_to in (None, vehicle.id)
        and vehicle.id not in job.excluded
    )


def solution_repair(problem: Problem, solution: Solution) -> Solution:
    """`solution` with every route's break placed (mending routes that cannot take it) and
    left-out jobs re-inserted where they fit. Routes needing no change keep their times."""
    jobs = {job.id: job for job in problem.jobs}
    vehicles = {vehicle.id: vehicle for vehicle in problem.vehicles}
    unassigned = dict(solution.unassigned)
    routes: dict[str, _Route] = {}
    for route in solution.routes:
        vehicle = vehicles[route.vehicle_id]
        seq = [jobs[stop.job_id] for stop in route.stops]
        needs_break = vehicle.break_window is not None and vehicle.break_duration > 0
        planned = (
            route if not needs_break or route.breaks else route_schedule(problem, vehicle, seq)
        )
        if planned is None:
            seq, planned, dropped = _drop_fewest(problem, vehicle, seq)
            for job in dropped:
                unassigned[job.id] = UnassignedReason.NO_CAPACITY
        routes[vehicle.id] = _Route(vehicle, seq, planned)
    for vehicle in problem.vehicles:
        routes.setdefault(vehicle.id, _Route(vehicle, [], None))

    # Only jobs a qualified technician might still take: not those ruled out before solving.
    retry = [
        jobs[job_id]
        for job_id, reason in unassigned.items()
        if reason == UnassignedReason.NO_CAPACITY and job_id in jobs
    ]
    qualified = {job.id: [r for r in routes.values() if may_serve(r.vehicle, job)] for job in retry}
    retry.sort(key=lambda job: (-job.priority, len(qualified[job.id]), job.tw_end))
    for job in retry:
        if _insert(problem, job, qualified[job.id]):
            del unassigned[job.id]

    planned = [r.planned for r in routes.values() if r.planned is not None and r.jobs]
    return replace(
        solution,
        routes=planned,
        unassigned=unassigned,
        cost=sum(route.distance for route in planned),
    )


def _drop_fewest(
    problem: Problem, vehicle: Vehicle, seq: list[SolverJob]
) -> tuple[list[SolverJob], SolverRoute | None, list[SolverJob]]:
    """The route minus the fewest (then least important) jobs that lets it take its break."""
    for size in (1, 2):
        options = []
        for out in combinations(range(len(seq)), size):
            kept = [job for k, job in enumerate(seq) if k not in out]
            planned = route_schedule(problem, vehicle, kept) if kept else None
            if planned is not None or not kept:
                lost = sum(seq[k].priority for k in out)
                options.append((lost, planned.distance if planned else 0, out, kept, planned))
        if options:
            _, _, out, kept, planned = min(options, key=lambda option: option[:2])
            return kept, planned, [seq[k] for k in out]
    # Rarely more: drop the least important job nearest the break window until it fits.
    kept, dropped = list(seq), []
    opens, closes = vehicle.break_window or (0, 0)
    middle = (opens + closes) // 2
    while kept:
        worst = min(kept, key=lambda job: (job.priority, abs(job.tw_start - middle)))
        kept.remove(worst)
        dropped.append(worst)
        planned = route_schedule(problem, vehicle, kept) if kept else None
        if planned is not None:
            return kept, planned, dropped
    return [], None, dropped


def _insert(problem: Problem, job: SolverJob, candidates: list[_Route]) -> bool:
    """Put `job` where it costs the least detour and the route still keeps every rule."""
    distance = problem.distances
    options = []
    for route in candidates:
        vehicle = route.vehicle
        if vehicle.capacity is not None:
            load = sum(other.demand for other in route.jobs) + job.demand
            if load > vehicle.capacity:
                continue
        places = [vehicle.start, *(other.location for other in route.jobs), vehicle.end]
        for k in range(len(places) - 1):
            prev, nxt = places[k], places[k + 1]
            detour = distance[prev, job.location] + distance[job.location, nxt]
            options.append((int(detour - distance[prev, nxt]), k, route))
    options.sort(key=lambda option: option[:2])
    for _, k, route in options[:MAX_TRIES_PER_JOB]:
        seq = [*route.jobs[:k], job, *route.jobs[k:]]
        planned = route_schedule(problem, route.vehicle, seq)
        if planned is not None:
            route.jobs, route.planned = seq, planned
            return True
    return False


def solution_checked(problem: Problem, solution: Solution) -> Solution:
    """The last guard before a plan leaves the routing layer: whatever the independent checker
    still finds is taken out (the job left out; a route that stays wrong, whole), so no plan
    with a violation is ever reported feasible."""
    found = check_solution(problem, solution)
    if not found:
        return replace(solution, feasible=True)
    jobs = {job.id: job for job in problem.jobs}
    vehicles = {vehicle.id: vehicle for vehicle in problem.vehicles}
    bad_jobs = {v.job_id for v in found if v.job_id is not None and v.vehicle_id is not None}
    unassigned = dict(solution.unassigned)
    routes = []
    for route in solution.routes:
        if route.vehicle_id not in vehicles:
            continue
        kept = [
            jobs[s.job_id] for s in route.stops if s.job_id in jobs and s.job_id not in bad_jobs
        ]
        for stop in route.stops:
            if stop.job_id in jobs and stop.job_id in bad_jobs:
                unassigned[stop.job_id] = UnassignedReason.NO_CAPACITY
        if len(kept) == len(route.stops) and not any(
            v.vehicle_id == route.vehicle_id for v in found
        ):
            routes.append(route)
            continue
        planned = route_schedule(problem, vehicles[route.vehicle_id], kept)
        if planned is None and kept:
            kept, planned, dropped = _drop_fewest(problem, vehicles[route.vehicle_id], kept)
            for job in dropped:
                unassigned[job.id] = UnassignedReason.NO_CAPACITY
        if planned is not None:
            routes.append(planned)
    served = {stop.job_id for route in routes for stop in route.stops}
    for job_id in jobs:
        if job_id not in served:
            unassigned.setdefault(job_id, UnassignedReason.NO_CAPACITY)
    unassigned = {
        job_id: r for job_id, r in unassigned.items() if job_id in jobs and job_id not in served
    }
    repaired = replace(
        solution,
        routes=routes,
        unassigned=unassigned,
        cost=sum(route.distance for route in routes),
    )
    return replace(repaired, feasible=not check_solution(problem, repaired))
