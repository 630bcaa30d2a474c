"""The routing problem as the dispatch domain sees it, and the plan a solver hands back.

Plain dataclasses, no Django and no solver types: the assignment engine builds a `Problem` from
the day's technicians and jobs, any `Solver` turns it into a `Solution`.

Conventions: times are integer seconds from a day origin chosen by the caller; `start`, `end` and
`location` are row indexes into the duration (and distance) matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np


class UnassignedReason(StrEnum):
    """Why a job is not in the plan."""

    SKILLS = "skills"  # no technician (or not the pinned one) has every skill the job needs
    PINNED_VEHICLE_UNAVAILABLE = "pinned_vehicle_unavailable"  # pinned to nobody on shift
    UNREACHABLE = "unreachable"  # no qualified technician can make its window, even from home
    NO_CAPACITY = "no_capacity"  # a qualified technician could, but it did not fit in the plan


@dataclass(frozen=True, slots=True, kw_only=True)
class Vehicle:
    """A technician's shift: leaves `start`, comes back to `end` (both usually their home)."""

    id: str
    start: int
    end: int
    shift_start: int
    shift_end: int
    skills: frozenset[str] = frozenset()
    max_duration: int | None = None  # longest time from leaving home to coming back
    capacity: int | None = None  # None: unlimited; compared with `SolverJob.demand`
    break_window: tuple[int, int] | None = None
    break_duration: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SolverJob:
    """A visit to make. The window bounds when service may *start* (the promised arrival)."""

    id: str
    location: int
    service: int
    tw_start: int
    tw_end: int
    skills: frozenset[str] = frozenset()
    pinned_to: str | None = None  # a `Vehicle.id` the job must go to
    excluded: frozenset[str] = frozenset()  # `Vehicle.id`s the job must not go to
    priority: int = 1  # higher is more important to serve when not everything fits
    demand: int = 0
    # The `Vehicle.id` holding the job in the current plan: a re-plan keeps it there when it
    # can (`dispatch.routing.keep`), so a technician's day stays as promised.
    current_vehicle: str | None = None


@dataclass(frozen=True, kw_only=True)
class Problem:
    """Technicians, jobs and the travel matrices between their locations.

    `duration` is in seconds; `distance` (any unit, often metres) is what the solver minimises
    and defaults to `duration`. Both are square integer matrices with a zero diagonal.
    """

    vehicles: Sequence[Vehicle]
    jobs: Sequence[SolverJob]
    duration: np.ndarray
    distance: np.ndarray | None = None

    def __post_init__(self) -> None:
        # Frozen, so normalise through object.__setattr__: solvers can rely on int64 arrays.
        object.__setattr__(self, "duration", _as_matrix(self.duration, name="duration"))
        if self.distance is not None:
            distance = _as_matrix(self.distance, name="distance")
            if distance.shape != self.duration.shape:
                raise ValueError("distance and duration matrices differ in shape")
            object.__setattr__(self, "distance", distance)
        _check_vehicles(self.vehicles, size=len(self.duration))
        _check_jobs(self.jobs, size=len(self.duration))

    @property
    def distances(self) -> np.ndarray:
        return self.duration if self.distance is None else self.distance


@dataclass(frozen=True, slots=True, kw_only=True)
class Stop:
    """One job on a route: when the technician arrives, starts and finishes the service."""

    job_id: str
    arrival: int
    start: int
    end: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Break:
    """A break placed on a route: never during a service or on the road; it may overlap
    waiting, or be taken at home before leaving or after coming back."""

    start: int
    end: int


@dataclass(frozen=True, kw_only=True)
class SolverRoute:
    """A technician's day: leaves home at `start`, serves `stops` in order, is back at `end`."""

    vehicle_id: str
    stops: list[Stop]
    start: int
    end: int
    travel: int  # seconds on the road, from the duration matrix
    distance: int  # from the distance matrix
    breaks: list[Break] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Solution:
    """The plan. Routes of idle technicians are left out; `cost` is the total distance."""

    routes: list[SolverRoute]
    unassigned: dict[str, UnassignedReason] = field(default_factory=dict)
    cost: int = 0
    feasible: bool = True
    solver: str = ""
    runtime_s: float = 0.0

    def route_of(self, vehicle_id: str) -> SolverRoute | None:
        return next((route for route in self.routes if route.vehicle_id == vehicle_id), None)


def _as_matrix(values: np.ndarray, *, name: str) -> np.ndarray:
    matrix = np.asarray(values)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"{name} matrix must be square, got shape {matrix.shape}")
    if not np.issubdtype(matrix.dtype, np.integer):
        raise ValueError(f"{name} matrix must hold integers, got {matrix.dtype}")
    matrix = matrix.astype(np.int64, copy=False)
    if (matrix < 0).any():
        raise ValueError(f"{name} matrix has negative entries")
    if np.diagonal(matrix).any():
        raise ValueError(f"{name} matrix must have a zero diagonal")
    return matrix


def _check_vehicles(vehicles: Sequence[Vehicle], *, size: int) -> None:
    if len({vehicle.id for vehicle in vehicles}) != len(vehicles):
        raise ValueError("vehicle ids must be unique")
    for vehicle in vehicles:
        if not (0 <= vehicle.start < size and 0 <= vehicle.end < size):
            raise ValueError(f"vehicle {vehicle.id}: start/end outside the matrix")
        if vehicle.shift_start > vehicle.shift_end:
            raise ValueError(f"vehicle {vehicle.id}: shift ends before it starts")


def _check_jobs(jobs: Sequence[SolverJob], *, size: int) -> None:
    if len({job.id for job in jobs}) != len(jobs):
        raise ValueError("job ids must be unique")
    for job in jobs:
        if not 0 <= job.location < size:
            raise ValueError(f"job {job.id}: location outside the matrix")
        if job.tw_start > job.tw_end:
            raise ValueError(f"job {job.id}: window closes before it opens")
        if job.service < 0 or job.demand < 0 or job.priority < 1:
            raise ValueError(f"job {job.id}: service, demand must be >= 0 and priority >= 1")
