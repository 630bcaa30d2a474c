"""A national day planned in parts on Celery workers.

A day with more technicians than `PLAN_PARTITION_SIZE` is not solved whole: it is split by
territory, then into geographic clusters (dispatch/routing/partition.py), and each part is
solved by its own `plan_part` task on the `plan` queue, so every worker on every machine plans
in parallel. Celery is the distributed engine: a group of tasks, their results read back from
the result backend. A task receives plain data (coordinates, vehicles, jobs; never a matrix),
builds its part's travel matrix, solves, checks the plan with the independent feasibility
checker and returns the routes.

Then the boundary pass: per territory, the jobs the parts left out and the idle technicians
living nearest to them are solved again together, as one more task each.

A part whose plan fails the checker is not applied: its routes are dropped and its jobs are left
as they are (neither placed nor unassigned), and the failure is logged with its reasons.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import time
from collections import defaultdict
from dataclasses import dataclass, field

from celery import group
from django.conf import settings

from config.celery import app
from dispatch.feasibility import check_solution
from dispatch.routing import Solution, UnassignedReason, get_solver
from dispatch.routing.partition import (
    Part,
    PlainDay,
    boundary_part,
    owner_of,
    part_payload,
    partition_day,
    problem_from_payload,
    solution_from_payload,
    solution_payload,
)
from dispatch.travel import TravelError, travel_for

log = logging.getLogger(__name__)
# The task that plans one part, asked for by name: tasks build on the engine, not the reverse.
PLAN_PART = "dispatch.tasks.plan_part"
# The boundary pass gets this share of a part's time limit.
BOUNDARY_SHARE = 0.5
# Waiting for the workers: when no part finished for this long (beyond a part's time limit),
# the parts still missing are solved here instead (a plan queue with no free worker, e.g. when
# every worker is itself waiting for parts, must not hang the re-plan).
STALL_GRACE_S = 60.0


@dataclass
class PartOutcome:
    key: str
    vehicles: int
    jobs: int
    served: int = 0
    violations: list[dict] = field(default_factory=list)
    checked: bool = False
    applied: bool = False
    runtime_s: float = 0.0
    peak_rss_mb: float = 0.0
    worker_pid: int = 0
    where: str = "worker"  # or "here", when the caller solved it after the workers stalled
    error: str = ""


@dataclass
class PartitionedPlan:
    solution: Solution
    parts: list[PartOutcome]
    boundary: list[PartOutcome]

    @property
    def violations(self) -> int:
        return sum(len(p.violations) for p in self.parts + self.boundary)


def is_large(day: PlainDay, *, part_size: int | None = None) -> bool:
    """More technicians than one part holds: plan it in parts."""
    size = part_size or settings.PLAN_PARTITION_SIZE
    return len({owner_of(vehicle.id) for vehicle in day.vehicles}) > size


def day_solve_partitioned(
    *,
    day: PlainDay,
    time_limit: float,
    travel: dict,
    part_size: int | None = None,
    seed: int = 0,
) -> PartitionedPlan:
    """Plan `day` in parts on the workers, then its boundary; one merged `Solution`.

    `travel` names the travel model (`speed_kmh`, `detour`, as `travel_for` takes them)."""
    started = time.perf_counter()
    parts = partition_day(day=day, part_size=part_size or settings.PLAN_PARTITION_SIZE, seed=seed)
    solved = _solve_parts(day, parts, time_limit=time_limit, travel=travel, seed=seed)
    routes, unassigned = [], {}
    good_parts: list[Part] = []
    outcomes = []
    for part, (outcome, solution) in zip(parts, solved, strict=True):
        outcomes.append(outcome)
        if solution is None:
            continue
        good_parts.append(part)
        routes.extend(solution.routes)
        unassigned.update(solution.unassigned)

    # The boundary pass: per territory, the left-out jobs with the idle technicians nearby.
    busy = {route.vehicle_id for route in routes}
    left_out: dict[str, list[int]] = defaultdict(list)
    idle: dict[str, list[int]] = defaultdict(list)
    for part in good_parts:
        for j in part.jobs:
            reason = unassigned.get(day.jobs[j].id)
            if reason is not None and reason != UnassignedReason.PINNED_VEHICLE_UNAVAILABLE:
                left_out[part.region].append(j)
        idle[part.region].extend(i for i in part.vehicles if day.vehicles[i].id not in busy)
    boundary = []
    for region in sorted(left_out):
        part = boundary_part(day=day, region=region, left_out=left_out[region], idle=idle[region])
        if part is not None:
            boundary.append(part)
    boundary_outcomes = []
    if boundary:
        second = _solve_parts(
            day, boundary, time_limit=time_limit * BOUNDARY_SHARE, travel=travel, seed=seed
        )
        for outcome, solution in second:
            boundary_outcomes.append(outcome)
            if solution is None:
                continue
            routes.extend(solution.routes)
            for route in solution.routes:
                for stop in route.stops:
                    unassigned.pop(stop.job_id, None)
            for job_id, reason in solution.unassigned.items():
                if job_id in unassigned:
                    unassigned[job_id] = reason
    solution = Solution(
        routes=routes,
        unassigned=unassigned,
        cost=sum(route.distance for route in routes),
        feasible=True,
        solver=f"partitioned:{get_solver().name}",
        runtime_s=time.perf_counter() - started,
    )
    return PartitionedPlan(solution=solution, parts=outcomes, boundary=boundary_outcomes)


def _solve_parts(
    day: PlainDay, parts: list[Part], *, time_limit: float, travel: dict, seed: int
) -> list[tuple[PartOutcome, Solution | None]]:
    """Each part solved as a `plan_part` task; the checked plans (None for a part not applied)."""
    plan_part = _registered(PLAN_PART)
    payloads = [part_payload(day=day, part=part) for part in parts]
    options = {"time_limit": time_limit, "travel": travel, "seed": seed}
    result = group(plan_part.s(part=payload, **options) for payload in payloads).apply_async()
    answers: dict[int, dict | Exception] = {}
    last_progress = time.monotonic()
    while len(answers) < len(payloads):
        for k, child in enumerate(result.results):
            if k not in answers and child.ready():
                answers[k] = child.get(propagate=False, disable_sync_subtasks=False)
                last_progress = time.monotonic()
        if time.monotonic() - last_progress > time_limit + STALL_GRACE_S:
            for k, payload in enumerate(payloads):
                if k not in answers:
                    result.results[k].revoke()
                    log.warning("part %s: no worker took it, solved here", payload["key"])
                    answers[k] = {**part_solve(part=payload, **options), "where": "here"}
            break
        if len(answers) < len(payloads):
            time.sleep(0.2)
    with contextlib.suppress(NotImplementedError):  # eager runs have no backend
        result.forget()  # results are read once; the backend need not keep them
    pairs = zip(parts, payloads, strict=True)
    return [_read(part, payload, answers[k]) for k, (part, payload) in enumerate(pairs)]


def _registered(task_name: str):
    """The registered task; outside a worker, the first ask imports every app's tasks module
    (Celery's autodiscovery), as a worker does at start."""
    if task_name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[task_name]


def _read(part: Part, payload: dict, answer) -> tuple[PartOutcome, Solution | None]:
    outcome = PartOutcome(key=part.key, vehicles=len(part.vehicles), jobs=len(part.jobs))
    if not isinstance(answer, dict):  # the task failed: the part is not applied
        outcome.error = repr(answer)
        log.error("part %s not applied: its task failed: %r", part.key, answer)
        return outcome, None
    solution = solution_from_payload(answer["solution"])
    outcome.served = sum(len(route.stops) for route in solution.routes)
    outcome.violations = answer["violations"]
    outcome.checked = answer["checked"]
    outcome.runtime_s = answer["runtime_s"]
    outcome.peak_rss_mb = answer["peak_rss_mb"]
    outcome.worker_pid = answer["pid"]
    outcome.where = answer.get("where", "worker")
    if outcome.violations:
        log.error(
            "part %s not applied: its plan breaks %d rules, first: %s",
            part.key,
            len(outcome.violations),
            outcome.violations[:3],
        )
        return outcome, None
    outcome.applied = True
    return outcome, solution


# ---------------------------------------------------------------- inside the worker


def part_solve(*, part: dict, time_limit: float, travel: dict, seed: int = 0) -> dict:
    """Plan one part from its plain data: build its matrix here, solve, check. JSON out."""
    started = time.perf_counter()
    problem = problem_from_payload(part, matrix=_matrix(travel))
    solution = get_solver().solve(problem, time_limit=time_limit, seed=seed)
    violations = [_violation(v) for v in check_solution(problem, solution)]
    return {
        "key": part["key"],
        "solution": solution_payload(solution),
        "violations": violations,
        "checked": True,
        "runtime_s": round(time.perf_counter() - started, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "pid": os.getpid(),
    }


def _matrix(travel: dict):
    """The travel model without its per-process cache: a part's matrix is used once, and a
    cache of them would hold a worker's memory."""
    cached = travel_for(speed_kmh=travel["speed_kmh"], detour=travel["detour"])

    def matrix(points):
        try:
            return cached.model.matrix(points)
        except TravelError:
            return cached.fallback.matrix(points)

    return matrix


def _violation(violation) -> dict:
    return {
        "kind": str(violation.kind),
        "vehicle_id": violation.vehicle_id,
        "job_id": violation.job_id,
        "detail": str(violation.detail),
    }
