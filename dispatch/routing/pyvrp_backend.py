"""PyVRP backend: maps a `Problem` onto `pyvrp.ProblemData`, solves it, maps the plan back.

How the domain rules land in PyVRP 0.14:

- Every job is an optional client with a prize that grows with its priority, so an over-full day
  still gets a plan and the jobs that did not fit come back as unassigned. Optional clients cost
  PyVRP a quarter to a third of its iterations, though, so the search first treats every job as
  required; only when no such plan turns up within a tenth of the time limit (or the day plainly
  cannot hold them: more service than shift time, more demand than capacity) does it spend the
  rest choosing which jobs to leave out.
- Skills and pins become routing profiles. Each vehicle gets the profile of the set of jobs it
  may serve; in that profile every arc into or out of any other job costs several times the
  largest prize and takes longer than any shift, so serving such a job is both a loss and
  infeasible. Vehicles allowed the same jobs share a profile. The returned plan is checked
  again against the rules, never trusted.
  Memory: PyVRP keeps two full matrices per profile, so a 1000-job day with 20 distinct
  skill/pin sets holds about 20 x 2 x 8 MB.
- Each job gets its own PyVRP location (a copy of its matrix row), so two jobs at one address
  can still be allowed to different technicians.
- Jobs that no vehicle may or can serve are kept out of the model, with their reason.
- Lunch breaks: PyVRP 0.14 has no break activity, and a break cannot be faked as a client
  without a location of its own. The search reserves the break's length out of the shift, then
  `repair.solution_repair` places each break at a time, mends the routes that cannot take one
  (dropping the fewest jobs) and re-inserts left-out jobs where a qualified technician has room;
  `repair.solution_checked` runs the independent checker last, so `feasible` is the checker's.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pyvrp
from pyvrp.constants import MAX_VALUE
from pyvrp.stop import MaxRuntime

from dispatch.routing.eligibility import UNBOUNDED, eligibility
from dispatch.routing.problem import (
    Problem,
    Solution,
    SolverJob,
    SolverRoute,
    Stop,
    UnassignedReason,
    Vehicle,
)
from dispatch.routing.repair import solution_checked, solution_repair

# Share of the time limit given to finding a plan that serves every job before settling for
# fewer. PyVRP's first local search usually finds one at once when there is one.
PROBE_SHARE = 0.1


@dataclass(frozen=True)
class PyVRPModel:
    """A `Problem` in PyVRP's terms, with what it takes to read the answer back."""

    # Builds the PyVRP data, every client required or not; None when there is nothing to route.
    # Built on demand, one at a time: a ProblemData holds every profile's two matrices.
    make: Callable[[bool], pyvrp.ProblemData] | None
    client_jobs: np.ndarray  # PyVRP client index -> index into problem.jobs
    type_vehicles: list[list[int]]  # PyVRP vehicle type -> indexes into problem.vehicles
    allowed: np.ndarray  # jobs x vehicles: skills and pins permit it
    unassigned: dict[str, UnassignedReason]  # left out before solving
    may_fit: bool = True  # False when the day provably cannot hold every job


class PyVRPSolver:
    name = "pyvrp"

    def solve(self, problem: Problem, *, time_limit: float, seed: int = 0) -> Solution:
        """Plan `problem`; `time_limit` bounds the search, building the model comes on top."""
        started = time.perf_counter()
        model = build_model(problem)
        best = None if model.make is None else _search(model, time_limit=time_limit, seed=seed)
        solution = read_solution(problem=problem, model=model, best=best, runtime_s=0.0)
        solution = solution_checked(problem, solution_repair(problem, solution))
        return replace(solution, runtime_s=time.perf_counter() - started)


class _EverythingFits:
    """Stop criterion: the time limit, or the probe time without a plan serving every job."""

    def __init__(self, *, time_limit: float, probe: float) -> None:
        self.time_limit, self.probe = time_limit, probe
        self.started: float | None = None
        self.elapsed = 0.0
        self.found = False

    def __call__(self, best_cost: int) -> bool:
        now = time.perf_counter()
        self.started = now if self.started is None else self.started
        self.elapsed = now - self.started
        # PyVRP reports an infeasible best as the largest cost.
        self.found = self.found or best_cost < UNBOUNDED
        return self.elapsed > self.time_limit or (not self.found and self.elapsed > self.probe)


def _search(model: PyVRPModel, *, time_limit: float, seed: int) -> pyvrp.Solution:
    """Look for a plan serving every job; failing that, choose which jobs to leave out."""
    assert model.make is not None
    if model.may_fit:
        stop = _EverythingFits(time_limit=time_limit, probe=PROBE_SHARE * time_limit)
        best = _pyvrp_solve(model.make(True), stop=stop, seed=seed)
        if best.is_feasible() and best.is_complete():
            return best
        time_limit = max(time_limit - stop.elapsed, 0.0)
        # The probe's data is gone before the second is built: never two copies at once.
        del best
    return _pyvrp_solve(model.make(False), stop=MaxRuntime(time_limit), seed=seed)


def _pyvrp_solve(
    data: pyvrp.ProblemData, *, stop: Callable[[int], bool], seed: int
) -> pyvrp.Solution:
    return pyvrp.solve(data, stop, seed=seed, collect_stats=False, display=False).best


def build_model(problem: Problem) -> PyVRPModel:
    allowed, servable, unassigned = eligibility(problem)
    client_jobs = np.flatnonzero(servable)
    if not len(client_jobs):
        return PyVRPModel(None, client_jobs, [], allowed, unassigned)

    homes, home_of = np.unique([[v.start, v.end] for v in problem.vehicles], return_inverse=True)
    jobs = [problem.jobs[j] for j in client_jobs]
    # PyVRP locations: the homes first, then one location per job.
    locations = np.concatenate([homes, [job.location for job in jobs]])
    # Distinct "which jobs may this vehicle serve" columns are the routing profiles.
    masks, profile_of = np.unique(allowed[client_jobs].T, axis=0, return_inverse=True)
    blocked = [len(homes) + np.flatnonzero(~mask) for mask in masks]
    unit_prize, distances, durations = _matrices(problem, locations, blocked, jobs=jobs)
    vehicle_types, type_vehicles = _vehicle_types(
        problem.vehicles, home_of.reshape(-1, 2), profile_of.ravel(), jobs=jobs
    )

    def make(required: bool) -> pyvrp.ProblemData:
        return pyvrp.ProblemData(
            locations=[pyvrp.Location(x=0, y=0) for _ in locations],
            clients=_clients(
                jobs, first_location=len(homes), unit_prize=unit_prize, required=required
            ),
            depots=[pyvrp.Depot(location=idx) for idx in range(len(homes))],
            vehicle_types=vehicle_types,
            distance_matrices=distances,
            duration_matrices=durations,
        )

    may_fit = _may_fit(problem.vehicles, jobs)
    return PyVRPModel(make, client_jobs, type_vehicles, allowed, unassigned, may_fit)


def _may_fit(vehicles: Sequence[Vehicle], jobs: list[SolverJob]) -> bool:
    """False when the jobs need more service time or load than the whole fleet has."""
    hours = sum(
        min(v.shift_end - v.shift_start, UNBOUNDED if v.max_duration is None else v.max_duration)
        for v in vehicles
    )
    if any(v.capacity is None for v in vehicles):
        room = UNBOUNDED
    else:
        room = sum(v.capacity or 0 for v in vehicles)
    return sum(j.service for j in jobs) <= hours and sum(j.demand for j in jobs) <= room


def read_solution(
    *, problem: Problem, model: PyVRPModel, best: pyvrp.Solution | None, runtime_s: float
) -> Solution:
    unassigned = dict(model.unassigned)
    routes: list[SolverRoute] = []
    if best is not None:
        # Vehicles of one type are interchangeable: hand them out in order.
        free = [iter(vehicles) for vehicles in model.type_vehicles]
        for pyvrp_route in best.routes():
            vehicle = next(free[pyvrp_route.vehicle_type()])
            routes.append(_route(problem, model, pyvrp_route, vehicle, unassigned))
    served = {stop.job_id for route in routes for stop in route.stops}
    for j in model.client_jobs:
        job_id = problem.jobs[j].id
        if job_id not in served:
            unassigned.setdefault(job_id, UnassignedReason.NO_CAPACITY)
    return Solution(
        routes=routes,
        unassigned=unassigned,
        cost=sum(route.distance for route in routes),
        feasible=best is None or best.is_feasible(),
        solver=PyVRPSolver.name,
        runtime_s=runtime_s,
    )


def _matrices(
    problem: Problem, locations: np.ndarray, blocked: list[np.ndarray], *, jobs: list[SolverJob]
) -> tuple[int, Sequence[np.ndarray], Sequence[np.ndarray]]:
    """The prize of one priority level, and each profile's distance and duration matrix."""
    cells = np.ix_(locations, locations)
    duration = problem.duration[cells]
    distance = duration if problem.distance is None else problem.distances[cells]
    unit_prize = _unit_prize(distance)
    # A blocked arc costs a few times the largest prize, so serving the job never pays, and
    # takes longer than any shift, so a route through it is infeasible even when all jobs
    # are required. Not MAX_VALUE: times PyVRP's penalties that overflows int64, and the
    # search crawls.
    cost = min(MAX_VALUE, 4 * unit_prize * max(job.priority for job in jobs))
    shifts = [(v.shift_start, v.shift_end) for v in problem.vehicles]
    delay = min(MAX_VALUE, max(end for _, end in shifts) - min(start for start, _ in shifts) + 1)
    distances = _Blocked(distance, blocked, value=cost)
    durations = _Blocked(duration, blocked, value=delay)
    return unit_prize, distances, durations


class _Blocked(Sequence):
    """Each profile's matrix, made when PyVRP reads it: PyVRP copies every matrix it is given,
    so a list of ready copies would hold each profile twice while the data is built."""

    def __init__(self, matrix: np.ndarray, blocked: list[np.ndarray], *, value: int) -> None:
        self.matrix, self.blocked, self.value = matrix, blocked, value

    def __len__(self) -> int:
        return len(self.blocked)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        if not -len(self) <= k < len(self):
            raise IndexError(k)
        return _block(self.matrix, self.blocked[k], value=self.value)


def _block(matrix: np.ndarray, blocked: np.ndarray, *, value: int) -> np.ndarray:
    """A copy of `matrix` in which every arc into or out of the `blocked` locations is `value`."""
    if not len(blocked):
        return matrix
    matrix = matrix.copy()
    matrix[blocked, :] = value
    matrix[:, blocked] = value
    matrix[blocked, blocked] = 0  # PyVRP requires a zero diagonal
    return matrix


def _unit_prize(distance: np.ndarray) -> int:
    # No detour costs more than two of the longest arcs, so a job worth more than that is
    # always served when it fits; each priority level adds as much again.
    return 2 * int(distance.max(initial=0)) + 1


def _clients(
    jobs: list[SolverJob], *, first_location: int, unit_prize: int, required: bool = False
) -> list[pyvrp.Client]:
    with_load = any(job.demand for job in jobs)  # must agree with the vehicles' capacity
    return [
        pyvrp.Client(
            location=first_location + k,
            delivery=[job.demand] if with_load else [],
            service_duration=job.service,
            tw_early=job.tw_start,
            tw_late=job.tw_end,
            prize=job.priority * unit_prize,
            required=required,
            name=job.id,
        )
        for k, job in enumerate(jobs)
    ]


def _vehicle_types(
    vehicles: Sequence[Vehicle],
    home_of: np.ndarray,
    profile_of: np.ndarray,
    *,
    jobs: list[SolverJob],
) -> tuple[list[pyvrp.VehicleType], list[list[int]]]:
    """One PyVRP vehicle type per group of interchangeable vehicles, and who is in each."""
    # Loads only exist when some job has a demand. An unlimited van still needs a number:
    # the whole day's demand is never exceeded and cannot overflow.
    day_demand = sum(job.demand for job in jobs)
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for i, vehicle in enumerate(vehicles):
        capacity = min(day_demand, UNBOUNDED if vehicle.capacity is None else vehicle.capacity)
        key = (
            int(home_of[i, 0]),
            int(home_of[i, 1]),
            vehicle.shift_start,
            vehicle.shift_end,
            _working_time(vehicle),
            capacity,
            int(profile_of[i]),
        )
        groups[key].append(i)

    vehicle_types = [
        pyvrp.VehicleType(
            num_available=len(members),
            capacity=[capacity] if day_demand else [],
            start_depot=start,
            end_depot=end,
            tw_early=shift_start,
            tw_late=shift_end,
            shift_duration=max_duration,
            profile=profile,
            name=",".join(vehicles[i].id for i in members),
        )
        for (start, end, shift_start, shift_end, max_duration, capacity, profile), members in (
            groups.items()
        )
    ]
    return vehicle_types, list(groups.values())


def _working_time(vehicle: Vehicle) -> int:
    """The longest route PyVRP may plan: the break's length is kept out of it (placed later)."""
    longest = vehicle.shift_end - vehicle.shift_start
    if vehicle.max_duration is not None:
        longest = min(longest, vehicle.max_duration)
    if vehicle.break_window is None:
        return UNBOUNDED if vehicle.max_duration is None else vehicle.max_duration
    return max(0, longest - vehicle.break_duration)


def _route(
    problem: Problem,
    model: PyVRPModel,
    pyvrp_route: pyvrp.Route,
    vehicle: int,
    unassigned: dict[str, UnassignedReason],
) -> SolverRoute:
    stops, path = [], [problem.vehicles[vehicle].start]
    for activity in pyvrp_route.schedule():
        if not activity.is_client():
            continue
        j = int(model.client_jobs[activity.idx])
        job = problem.jobs[j]
        if not model.allowed[j, vehicle]:
            # Should never happen given the blocked arcs; dropping a stop only makes the
            # technician earlier everywhere after it, so the remaining times still hold.
            unassigned[job.id] = UnassignedReason.SKILLS
            continue
        stops.append(
            Stop(
                job_id=job.id,
                arrival=activity.start_time - activity.wait_duration,
                start=activity.start_time,
                end=activity.end_time,
            )
        )
        path.append(job.location)
    path.append(problem.vehicles[vehicle].end)
    frm, to = np.array(path[:-1]), np.array(path[1:])
    return SolverRoute(
        vehicle_id=problem.vehicles[vehicle].id,
        stops=stops,
        start=pyvrp_route.start_time(),
        end=pyvrp_route.end_time(),
        travel=int(problem.duration[frm, to].sum()),
        distance=int(problem.distances[frm, to].sum()),
    )
