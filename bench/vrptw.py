"""VRPTW benchmark: the product's solver layer against raw PyVRP, on the same instances.

    python -m bench.vrptw [--solomon-seconds 5] [--homberger-seconds 60] [--only all]

For each instance it runs, one after the other and with the same time limit and seed:

- **product**: `dispatch.routing` (`to_problem` -> `get_solver().solve`), wall time from the
  `Problem` to the `Solution`, i.e. model building, search and reading the plan back;
- **raw**: `pyvrp.read(..., round_func="dimacs")` of the same instance, then `pyvrp.solve`,
  wall time of `pyvrp.solve` alone.

Both totals are recomputed from the routes by `check_routes`, which also checks every window,
load and visit independently. Gaps are to the `distance_dimacs` rows of `bks.csv`; instances
without one are reported but left out of the means, as are solutions that break a rule.
Writes `bench/results/vrptw.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pyvrp
import vrplib
from pyvrp.stop import MaxRuntime

from bench.vrptw_instances import (
    SCALE,
    Instance,
    check_routes,
    homberger_paths,
    read_bks,
    read_instance,
    solomon_paths,
    to_problem,
)
from dispatch.routing import get_solver
from dispatch.routing.pyvrp_backend import build_model

RESULTS = Path(__file__).parent / "results" / "vrptw.json"
SEED = 0


@dataclass(frozen=True, kw_only=True)
class Run:
    distance: float | None  # DIMACS units, recomputed from the routes
    routes: int
    wall_s: float
    errors: list[str]

    def as_dict(self, bks: float | None) -> dict:
        return {
            "distance": self.distance,
            "gap_pct": _gap(self.distance, bks) if not self.errors else None,
            "routes": self.routes,
            "wall_s": round(self.wall_s, 3),
            "errors": self.errors[:5],
        }


def run_product(instance: Instance, *, seconds: float) -> tuple[Run, float]:
    """The product's run, and how long building its PyVRP model takes (timed separately)."""
    problem = to_problem(instance)
    started = time.perf_counter()
    solution = get_solver().solve(problem, time_limit=seconds, seed=SEED)
    wall = time.perf_counter() - started

    routes = [[int(stop.job_id) for stop in route.stops] for route in solution.routes]
    total, errors = check_routes(instance, routes)
    if solution.cost != total:
        errors.append(f"reported cost {solution.cost} != recomputed {total}")
    errors += [f"unassigned {job}: {reason}" for job, reason in solution.unassigned.items()]

    started = time.perf_counter()
    build_model(problem)
    build = time.perf_counter() - started
    return Run(distance=total / SCALE, routes=len(routes), wall_s=wall, errors=errors), build


def run_raw(instance: Instance, *, seconds: float) -> Run:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{instance.name}.vrp"
        _write_vrplib(instance, path)
        data = pyvrp.read(path, round_func="dimacs")
    started = time.perf_counter()
    result = pyvrp.solve(
        data, stop=MaxRuntime(seconds), seed=SEED, collect_stats=False, display=False
    )
    wall = time.perf_counter() - started

    # PyVRP numbers clients from 0 after the depot; the instance numbers customers from 1.
    routes = [
        [visit.idx + 1 for visit in route.schedule() if visit.is_client()]
        for route in result.best.routes()
    ]
    total, errors = check_routes(instance, routes)
    if not result.best.is_feasible():
        errors.append("PyVRP reports the solution infeasible")
    if result.best.distance() != total:
        errors.append(f"PyVRP distance {result.best.distance()} != recomputed {total}")
    return Run(distance=total / SCALE, routes=len(routes), wall_s=wall, errors=errors)


def _write_vrplib(instance: Instance, path: Path) -> None:
    """The Solomon text as VRPLIB, which is what `pyvrp.read` understands."""
    vrplib.write_instance(
        path,
        {
            "NAME": instance.name,
            "TYPE": "VRPTW",
            "DIMENSION": len(instance.coords),
            "VEHICLES": instance.vehicles,
            "CAPACITY": instance.capacity,
            "EDGE_WEIGHT_TYPE": "EUC_2D",
            "NODE_COORD_SECTION": instance.coords,
            "DEMAND_SECTION": instance.demand,
            "TIME_WINDOW_SECTION": np.column_stack([instance.ready, instance.due]),
            "SERVICE_TIME_SECTION": instance.service,
            "DEPOT_SECTION": np.array([1, -1]),
        },
    )


def bench_set(name: str, paths: list[Path], *, seconds: float, bks: dict[str, float]) -> list[dict]:
    rows = []
    for path in paths:
        instance = read_instance(path)
        product, build = run_product(instance, seconds=seconds)
        raw = run_raw(instance, seconds=seconds)
        best = bks.get(instance.name.upper())
        row = {
            "instance": instance.name,
            "set": name,
            "family": instance.family,
            "customers": instance.customers,
            "seconds": seconds,
            "bks": best,
            "product": product.as_dict(best),
            "raw": raw.as_dict(best),
            "build_s": round(build, 4),
            "overhead_pct": round(100 * (product.wall_s - raw.wall_s) / raw.wall_s, 2),
        }
        rows.append(row)
        _print_row(row)
    return rows


def summarise(rows: list[dict], *, seconds: dict[str, float]) -> dict:
    families: dict[str, dict] = {}
    by_family: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_family[f"{row['set']}/{row['family']}"].append(row)
    for family, members in sorted(by_family.items()):
        families[family] = {
            "product_gap_pct": _mean_gap(members, "product"),
            "raw_gap_pct": _mean_gap(members, "raw"),
            "n": len(_comparable(members, "product")),
        }
    product_wall = sum(row["product"]["wall_s"] for row in rows)
    raw_wall = sum(row["raw"]["wall_s"] for row in rows)
    solomon = [row for row in rows if row["set"] == "solomon"]
    homberger = [row for row in rows if row["set"] == "homberger"]
    return {
        "solomon_mean_gap_pct": _mean_gap(solomon, "product"),
        "homberger_mean_gap_pct": _mean_gap(homberger, "product"),
        "raw_solomon_mean_gap_pct": _mean_gap(solomon, "raw"),
        "raw_homberger_mean_gap_pct": _mean_gap(homberger, "raw"),
        "overhead_pct": round(100 * (product_wall - raw_wall) / raw_wall, 2) if rows else None,
        "mean_build_s": _mean([row["build_s"] for row in rows]),
        "solomon_seconds": seconds["solomon"],
        "homberger_seconds": seconds["homberger"],
        "seed": SEED,
        "families": families,
        "instances": rows,
        "machine": _machine(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _comparable(rows: list[dict], side: str) -> list[dict]:
    """Rows that have a best-known value and a solution breaking no rule."""
    return [row for row in rows if row[side]["gap_pct"] is not None]


def _mean_gap(rows: list[dict], side: str) -> float | None:
    return _mean([row[side]["gap_pct"] for row in _comparable(rows, side)])


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 3) if values else None


def _gap(distance: float | None, bks: float | None) -> float | None:
    if distance is None or bks is None:
        return None
    return round(100 * (distance - bks) / bks, 3)


def _machine() -> dict:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "pyvrp": version("pyvrp"),
    }


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def _print_row(row: dict) -> None:
    product, raw = row["product"], row["raw"]
    flag = (
        ""
        if not (product["errors"] or raw["errors"])
        else "  !" + "; ".join(product["errors"][:1] + raw["errors"][:1])
    )
    print(
        f"{row['instance']:<10} {row['family']:<4} {_fmt(row['bks'], '.1f'):>9} "
        f"{_fmt(product['distance'], '.1f'):>9} {_fmt(product['gap_pct']):>7} "
        f"{_fmt(raw['distance'], '.1f'):>9} {_fmt(raw['gap_pct']):>7} "
        f"{product['wall_s']:>7.2f} {raw['wall_s']:>7.2f} {1000 * row['build_s']:>8.1f} "
        f"{row['overhead_pct']:>7.2f}{flag}",
        flush=True,
    )


def _print_header(title: str, seconds: float) -> None:
    print(f"\n{title} ({seconds:g} s per run, seed {SEED})")
    print(
        f"{'instance':<10} {'fam':<4} {'bks':>9} {'product':>9} {'gap%':>7} {'raw':>9} "
        f"{'gap%':>7} {'prod_s':>7} {'raw_s':>7} {'build_ms':>8} {'ovh%':>7}"
    )


def _print_summary(summary: dict) -> None:
    print(f"\n{'family':<16} {'n':>3} {'product gap%':>13} {'raw gap%':>9}")
    for family, stats in summary["families"].items():
        print(
            f"{family:<16} {stats['n']:>3} {_fmt(stats['product_gap_pct'], '.3f'):>13} "
            f"{_fmt(stats['raw_gap_pct'], '.3f'):>9}"
        )
    print(
        f"\nSolomon mean gap: product {_fmt(summary['solomon_mean_gap_pct'], '.3f')} %, "
        f"raw {_fmt(summary['raw_solomon_mean_gap_pct'], '.3f')} %"
    )
    print(
        f"Homberger 1000 mean gap: product {_fmt(summary['homberger_mean_gap_pct'], '.3f')} %, "
        f"raw {_fmt(summary['raw_homberger_mean_gap_pct'], '.3f')} %"
    )
    print(
        f"Overhead (product wall - raw wall) / raw wall: {_fmt(summary['overhead_pct'])} %, "
        f"mean model build {_fmt(summary['mean_build_s'], '.4f')} s"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.vrptw", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--solomon-seconds", type=float, default=5.0)
    parser.add_argument("--homberger-seconds", type=float, default=60.0)
    parser.add_argument("--only", choices=("solomon", "homberger", "all"), default="all")
    parser.add_argument("--match", default="", help="run only instances whose name contains this")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    bks = read_bks()
    seconds = {"solomon": args.solomon_seconds, "homberger": args.homberger_seconds}
    sets = {"solomon": solomon_paths(), "homberger": homberger_paths()}
    rows: list[dict] = []
    for name, paths in sets.items():
        if args.only not in (name, "all"):
            continue
        chosen = [path for path in paths if args.match.lower() in path.stem.lower()]
        _print_header(f"{name} ({len(chosen)} instances)", seconds[name])
        rows += bench_set(name, chosen, seconds=seconds[name], bks=bks)

    summary = summarise(rows, seconds=seconds)
    _print_summary(summary)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
