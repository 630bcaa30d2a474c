"""The solver interface: anything that turns a `Problem` into a `Solution` within a time limit."""

from __future__ import annotations

from importlib import import_module
from typing import Protocol

from dispatch.routing.problem import Problem, Solution

DEFAULT_SOLVER = "auto"

# Backends are imported on demand, so a backend's heavy dependency loads only when it is used.
_BACKENDS: dict[str, str] = {
    "auto": "dispatch.routing.solver:BestFitSolver",
    "pyvrp": "dispatch.routing.pyvrp_backend:PyVRPSolver",
    "vroom": "dispatch.routing.vroom_backend:VroomSolver",
}


class Solver(Protocol):
    name: str

    def solve(self, problem: Problem, *, time_limit: float, seed: int = 0) -> Solution:
        """Plan `problem`, searching for at most `time_limit` seconds."""
        ...


def get_solver(name: str | None = None) -> Solver:
    """The backend called `name`, or the default one."""
    key = name or DEFAULT_SOLVER
    try:
        module_name, class_name = _BACKENDS[key].split(":")
    except KeyError:
        raise ValueError(f"unknown solver {key!r}; known: {', '.join(_BACKENDS)}") from None
    return getattr(import_module(module_name), class_name)()


class BestFitSolver:
    """The backend measured best for the kind of day (bench/fieldday.py, bench/vrptw.py): VROOM
    when a technician has a break to place (it plans breaks natively; PyVRP can only have them
    mended afterwards, which served fewer jobs and drove further per job), PyVRP otherwise."""

    name = "auto"

    def solve(self, problem: Problem, *, time_limit: float, seed: int = 0) -> Solution:
        name = "vroom" if _vroom_fits(problem) else "pyvrp"
        return get_solver(name).solve(problem, time_limit=time_limit, seed=seed)


def _vroom_fits(problem: Problem) -> bool:
    """A break to place, and nothing VROOM cannot say: a route limit shorter than the shift,
    or a time before the day's origin (VROOM's clock is unsigned)."""
    vehicles = problem.vehicles
    breaks = any(v.break_window is not None and v.break_duration for v in vehicles)
    limited = any(
        v.max_duration is not None and v.max_duration < v.shift_end - v.shift_start
        for v in vehicles
    )
    earliest = min(
        [v.shift_start for v in vehicles] + [j.tw_start for j in problem.jobs], default=0
    )
    return breaks and not limited and earliest >= 0
