"""SolverRoute planning for the assignment engine: the problem, the plan, and swappable solvers.

Pure Python and numpy, no Django: services build a `Problem` from the day's technicians and jobs
and hand it to `get_solver().solve(...)`.
"""

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
from dispatch.routing.solver import DEFAULT_SOLVER, Solver, get_solver

__all__ = [
    "DEFAULT_SOLVER",
    "Break",
    "Problem",
    "Solution",
    "Solver",
    "SolverJob",
    "SolverRoute",
    "Stop",
    "UnassignedReason",
    "Vehicle",
    "get_solver",
]
