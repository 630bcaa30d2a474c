"""Solomon-format VRPTW instances, the DIMACS distance convention, and a route checker.

Shared by `python -m bench.vrptw` and the solver tests. DIMACS convention: every arc is
`floor(10 * euclid) / 10` and travel time equals distance. PyVRP wants integers, so everything
here is in tenths ("deci-units"): arcs are `floor(10 * euclid)`, times and service are x10;
divide a total by `SCALE` to compare it with a best-known solution.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from dispatch.routing import Problem, SolverJob, Vehicle

# The instances and best-known solutions are in the repository (bench/data/vrptw/README.md
# says where they come from); VRPTW_DATA points elsewhere.
DATA_DIR = Path(os.environ.get("VRPTW_DATA", Path(__file__).resolve().parent / "data" / "vrptw"))
SCALE = 10


@dataclass(frozen=True, kw_only=True)
class Instance:
    """A Solomon-format instance; row 0 of every array is the depot."""

    name: str
    path: Path
    vehicles: int
    capacity: int
    coords: np.ndarray  # (n + 1, 2)
    demand: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    service: np.ndarray

    @property
    def customers(self) -> int:
        return len(self.coords) - 1

    @property
    def family(self) -> str:
        """C1, C2, R1, R2, RC1 or RC2: the letters and first digit of the name."""
        match = re.match(r"([A-Za-z]+)(\d)", self.name)
        if match is None:
            raise ValueError(f"not a Solomon/Homberger name: {self.name}")
        return (match[1] + match[2]).upper()

    def distance_matrix(self) -> np.ndarray:
        """Arc lengths in deci-units, `floor(10 * euclid)`; also the travel times."""
        return dimacs_matrix(self.coords)


def read_instance(path: Path | str) -> Instance:
    path = Path(path)
    lines = [line.split() for line in path.read_text().splitlines()]
    lines = [fields for fields in lines if fields]
    # name / VEHICLE / NUMBER CAPACITY / <fleet> <capacity> / CUSTOMER / header / rows...
    vehicles, capacity = (int(value) for value in lines[3])
    rows = np.array([[int(float(value)) for value in fields] for fields in lines[6:]])
    if rows.shape[1] != 7 or rows[0, 0] != 0:
        raise ValueError(f"{path}: not in Solomon format")
    return Instance(
        name=lines[0][0],
        path=path,
        vehicles=vehicles,
        capacity=capacity,
        coords=rows[:, 1:3],
        demand=rows[:, 3],
        ready=rows[:, 4],
        due=rows[:, 5],
        service=rows[:, 6],
    )


def dimacs_matrix(coords: np.ndarray) -> np.ndarray:
    """`floor(10 * euclid)` between all pairs, as int64 (the DIMACS convention, in tenths)."""
    diff = coords[:, None, :].astype(np.float64) - coords[None, :, :]
    return np.floor(SCALE * np.sqrt((diff**2).sum(axis=-1))).astype(np.int64)


def read_bks(path: Path | str | None = None) -> dict[str, float]:
    """Best-known total distances under the DIMACS convention, by instance name (upper case)."""
    path = Path(path) if path is not None else DATA_DIR / "bks.csv"
    with path.open(newline="") as fh:
        return {
            row["instance"].upper(): float(row["distance"])
            for row in csv.DictReader(fh)
            if row["objective_kind"] == "distance_dimacs"
        }


def solomon_paths() -> list[Path]:
    return sorted((DATA_DIR / "solomon").glob("*.txt"))


def homberger_paths() -> list[Path]:
    """The six 1000-customer Gehring & Homberger files (`*_10_1`)."""
    return sorted((DATA_DIR / "homberger").glob("*_10_1.txt"))


def check_routes(instance: Instance, routes: list[list[int]]) -> tuple[int, list[str]]:
    """Total distance in deci-units of `routes` (customer numbers), and every rule they break.

    Independent of any solver: recomputes arrival times, loads and coverage from the instance.
    """
    matrix = instance.distance_matrix()
    ready, due, service = (SCALE * a for a in (instance.ready, instance.due, instance.service))
    errors: list[str] = []
    total = 0
    for number, route in enumerate(routes):
        path = [0, *route, 0]
        total += int(matrix[path[:-1], path[1:]].sum())
        if instance.demand[route].sum() > instance.capacity:
            errors.append(f"route {number}: over capacity")
        clock = ready[0]
        for previous, customer in pairwise(path):
            clock = max(clock + matrix[previous, customer], ready[customer])
            if clock > due[customer]:
                errors.append(f"route {number}: late at {customer}")
            clock += service[customer]
    visits = sorted(customer for route in routes for customer in route)
    if visits != list(range(1, instance.customers + 1)):
        errors.append("not every customer visited exactly once")
    if len([route for route in routes if route]) > instance.vehicles:
        errors.append("more routes than vehicles")
    return total, errors


def to_problem(instance: Instance) -> Problem:
    """The instance as the product sees it: every vehicle leaves and returns to the depot."""
    depot = 0
    vehicles = [
        Vehicle(
            id=f"v{number}",
            start=depot,
            end=depot,
            shift_start=SCALE * int(instance.ready[depot]),
            shift_end=SCALE * int(instance.due[depot]),
            capacity=instance.capacity,
        )
        for number in range(1, instance.vehicles + 1)
    ]
    jobs = [
        SolverJob(
            id=str(customer),
            location=customer,
            service=SCALE * int(instance.service[customer]),
            tw_start=SCALE * int(instance.ready[customer]),
            tw_end=SCALE * int(instance.due[customer]),
            demand=int(instance.demand[customer]),
        )
        for customer in range(1, instance.customers + 1)
    ]
    return Problem(vehicles=vehicles, jobs=jobs, duration=instance.distance_matrix())
