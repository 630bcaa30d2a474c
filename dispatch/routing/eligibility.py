"""Who may serve which job before any search: skills, pins, exclusions, capacity and whether the
job can be reached in its window at all. Shared by the backends, so each leaves out the same jobs
with the same reason."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dispatch.routing.problem import Problem, SolverJob, UnassignedReason, Vehicle

UNBOUNDED = np.iinfo(np.int64).max


def eligibility(
    problem: Problem,
) -> tuple[np.ndarray, np.ndarray, dict[str, UnassignedReason]]:
    """Which vehicle may serve which job, which jobs go to the solver, and why not the others."""
    jobs, vehicles = problem.jobs, problem.vehicles
    index = {vehicle.id: i for i, vehicle in enumerate(vehicles)}
    pins = np.array(
        [-1 if job.pinned_to is None else index.get(job.pinned_to, -2) for job in jobs],
        dtype=np.int64,
    ).reshape(-1, 1)
    allowed = _qualified(jobs, vehicles) & ((pins == -1) | (pins == np.arange(len(vehicles))))
    for j, job in enumerate(jobs):
        if job.excluded:  # rare (someone who could not finish it): a row at a time
            allowed[j] &= [vehicle.id not in job.excluded for vehicle in vehicles]
    capacity = column(vehicles, "capacity", default=UNBOUNDED)
    fits = allowed & (column(jobs, "demand").reshape(-1, 1) <= capacity)
    reachable = fits & _reachable(problem)

    # The first rule that rules out every vehicle names the reason; with nobody on shift,
    # the day is simply full.
    checks = (
        (pins.ravel() != -2, UnassignedReason.PINNED_VEHICLE_UNAVAILABLE),
        (allowed.any(axis=1) | (not vehicles), UnassignedReason.SKILLS),
        (fits.any(axis=1), UnassignedReason.NO_CAPACITY),
        (reachable.any(axis=1), UnassignedReason.UNREACHABLE),
    )
    unassigned: dict[str, UnassignedReason] = {}
    servable = np.ones(len(jobs), dtype=bool)
    for passes, reason in checks:
        for j in np.flatnonzero(servable & ~passes):
            unassigned[jobs[j].id] = reason
        servable &= passes
    return allowed, servable, unassigned


def _qualified(jobs: Sequence[SolverJob], vehicles: Sequence[Vehicle]) -> np.ndarray:
    """jobs x vehicles: the vehicle has every skill the job needs."""
    skills = sorted({skill for job in jobs for skill in job.skills})
    column = {skill: k for k, skill in enumerate(skills)}
    needs = np.zeros((len(jobs), len(skills)), dtype=np.int32)
    for j, job in enumerate(jobs):
        needs[j, [column[skill] for skill in job.skills]] = 1
    lacks = np.array(
        [[skill not in vehicle.skills for skill in skills] for vehicle in vehicles],
        dtype=np.int32,
    ).reshape(len(vehicles), len(skills))
    return (needs @ lacks.T) == 0


def _reachable(problem: Problem) -> np.ndarray:
    """jobs x vehicles: served alone, straight from home, the job keeps its window and the shift."""
    jobs, vehicles = problem.jobs, problem.vehicles
    location, service, tw_start, tw_end = (
        column(jobs, name).reshape(-1, 1) for name in ("location", "service", "tw_start", "tw_end")
    )
    start, end, shift_start, shift_end = (
        column(vehicles, name) for name in ("start", "end", "shift_start", "shift_end")
    )
    max_duration = column(vehicles, "max_duration", default=UNBOUNDED)

    there = problem.duration[start, location]  # broadcasts to jobs x vehicles
    back = problem.duration[location, end]
    begin = np.maximum(shift_start + there, tw_start)
    # Leaving home later is allowed, so waiting never counts against max_duration.
    return (
        (begin <= tw_end)
        & (begin + service + back <= shift_end)
        & (there + service + back <= max_duration)
    )


def column(
    items: Sequence[SolverJob] | Sequence[Vehicle], name: str, default: int = 0
) -> np.ndarray:
    values = (getattr(item, name) for item in items)
    return np.fromiter((default if v is None else v for v in values), np.int64, len(items))
