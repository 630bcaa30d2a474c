"""Field-day benchmark: the product's planner layer beside raw PyVRP and OR-Tools on telecom days.

    python -m bench.fieldday [--sizes small,medium,large] [--seeds 3] [--large-seeds 3]

Solomon and Homberger instances have no homes, skills, lunch or shifts; a field day has all of
them. A seeded generator makes days with technicians who start from home, 1-3 of six skills with
skewed frequencies, two shift patterns, a 30-minute lunch that must *start* inside a two-hour
window and may not overlap a service or a drive, 2-hour arrival windows and some all-day jobs.

Each day is planned, in its own subprocess (so peak RSS is each solver's own), by:

- **product**: `dispatch.routing.get_solver()` as the planner calls it, the windows' latest
  arrival pulled in by the window margin (`--margin`, the product's default) — and once more
  without the margin (`product_no_margin`) to show what the margin costs;
- **pyvrp**: raw PyVRP 0.14 on the same day: optional clients with prizes, one routing profile
  per skill set; it has no breaks, so it plans the whole shift and its lunches are what they are;
- **ortools**: OR-Tools routing with break intervals (`SetBreakIntervalsOfVehicle`) and
  `VehicleVar` skills, guided local search.

Every plan is re-checked by `dispatch.feasibility.check_solution` against the *promised*
windows. Writes `bench/results/fieldday.json`: per size and solver `planned`, `served`,
`violations`, `travel_min_per_served`, `peak_rss_mb`, `wall_s` (sums over seeds; RSS and wall
the largest and the mean), and the rare-skill jobs left out.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np

from bench.emergency_loop import metrics_table
from dispatch.feasibility import check_solution
from dispatch.routing import Break, Problem, Solution, SolverJob, SolverRoute, Stop, Vehicle

RESULTS = Path(__file__).parent / "results" / "fieldday.json"
HOUR = 3600
SKILLS = ("copper", "fiber", "tv", "wifi", "business", "hv")
# How often a technician holds each skill, and a job needs it: skewed, the last ones rare.
SKILL_WEIGHTS = np.array([0.42, 0.26, 0.14, 0.09, 0.06, 0.03])
SHIFTS = (
    (8 * HOUR, 17 * HOUR, (12 * HOUR, 14 * HOUR)),
    (10 * HOUR, 19 * HOUR, (13 * HOUR, 15 * HOUR)),
)
LUNCH = 30 * 60
SPEED_M_PER_S = 7.0  # ~25 km/h through a city
SIZES = {"small": (10, 80, 10.0), "medium": (40, 350, 10.0), "large": (100, 1000, 60.0)}
DEFAULT_MARGIN_MIN = 30
RARE_SHARE = 0.10
# Measured on the medium day (10 s): LOCAL_CHEAPEST_INSERTION served 347, PARALLEL_ 340,
# PATH_CHEAPEST_ARC 327 of 350: OR-Tools gets its best.
ORTOOLS_FIRST_SOLUTION = __import__("os").environ.get(
    "ORTOOLS_FIRST", "PARALLEL_CHEAPEST_INSERTION"
)  # a job at most this share of technicians can do is "rare"


# --- the generator ---------------------------------------------------------------------------


def field_day(*, technicians: int, jobs: int, seed: int, margin: int = 0) -> Problem:
    """A seeded field day. `margin` (seconds) pulls each job's latest arrival in, as the
    product's window margin does; the checker is then given the day with margin 0."""
    rng = np.random.default_rng(seed)
    side = 2000.0 * np.sqrt(technicians)  # metres; the same density of work at every size
    homes = rng.uniform(0, side, size=(technicians, 2))
    sites = rng.uniform(0, side, size=(jobs, 2))
    points = np.vstack([homes, sites])
    metres = 1.3 * np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    distance = np.rint(metres).astype(np.int64)
    duration = np.rint(metres / SPEED_M_PER_S).astype(np.int64)

    vehicles = []
    for t in range(technicians):
        count = rng.choice([1, 2, 3], p=[0.45, 0.35, 0.20])
        skills = rng.choice(len(SKILLS), size=count, replace=False, p=SKILL_WEIGHTS)
        if t < len(SKILLS):  # every skill has somebody
            skills = np.unique(np.append(skills, t))
        shift_start, shift_end, window = SHIFTS[t % 2 if t >= len(SKILLS) else 0]
        vehicles.append(
            Vehicle(
                id=f"t{t}",
                start=t,
                end=t,
                shift_start=shift_start,
                shift_end=shift_end,
                skills=frozenset(SKILLS[s] for s in skills),
                break_window=window,
                break_duration=LUNCH,
            )
        )
    day_jobs = []
    for j in range(jobs):
        skill = SKILLS[rng.choice(len(SKILLS), p=SKILL_WEIGHTS)]
        service = int(rng.choice([20, 30, 45, 60, 90], p=[0.2, 0.3, 0.25, 0.2, 0.05])) * 60
        if rng.random() < 0.15:  # all day
            tw_start, tw_end = 8 * HOUR, 19 * HOUR - service
        else:
            opens = int(rng.integers(8, 17)) * HOUR
            tw_start, tw_end = opens, opens + 2 * HOUR
        latest = max(tw_start, tw_end - margin)
        day_jobs.append(
            SolverJob(
                id=f"j{j}",
                location=technicians + j,
                service=service,
                tw_start=tw_start,
                tw_end=latest,
                skills=frozenset({skill}),
                priority=int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1])),
            )
        )
    return Problem(vehicles=vehicles, jobs=day_jobs, duration=duration, distance=distance)


# --- the solvers ------------------------------------------------------------------------------


def solve_product(problem: Problem, *, time_limit: float, seed: int) -> Solution:
    from dispatch.routing import get_solver

    return get_solver().solve(problem, time_limit=time_limit, seed=seed)


def solve_product_pyvrp(problem: Problem, *, time_limit: float, seed: int) -> Solution:
    """The product's PyVRP backend, breaks placed by the repair: the method not chosen."""
    from dispatch.routing import get_solver

    return get_solver("pyvrp").solve(problem, time_limit=time_limit, seed=seed)


def solve_pyvrp(problem: Problem, *, time_limit: float, seed: int) -> Solution:
    """Raw PyVRP: what a team would write in an afternoon. No breaks (PyVRP 0.14 has none)."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    vehicles, jobs = problem.vehicles, problem.jobs
    n_homes = len(vehicles)
    profiles = sorted({v.skills for v in vehicles}, key=sorted)
    unit = 2 * int(problem.distances.max()) + 1
    blocked_cost, blocked_time = 4 * unit * 3, 24 * HOUR
    distances, durations = [], []
    for skills in profiles:
        cut = np.array([n_homes + j for j, job in enumerate(jobs) if not job.skills <= skills])
        dist, dur = problem.distances.copy(), problem.duration.copy()
        if len(cut):
            for matrix, value in ((dist, blocked_cost), (dur, blocked_time)):
                matrix[cut, :] = value
                matrix[:, cut] = value
                matrix[cut, cut] = 0
        distances.append(dist)
        durations.append(dur)
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(x=0, y=0) for _ in range(len(problem.duration))],
        clients=[
            pyvrp.Client(
                location=n_homes + j,
                service_duration=job.service,
                tw_early=job.tw_start,
                tw_late=job.tw_end,
                prize=job.priority * unit,
                required=False,
            )
            for j, job in enumerate(jobs)
        ],
        depots=[pyvrp.Depot(location=v.start) for v in vehicles],
        vehicle_types=[
            pyvrp.VehicleType(
                start_depot=i,
                end_depot=i,
                tw_early=v.shift_start,
                tw_late=v.shift_end,
                profile=profiles.index(v.skills),
            )
            for i, v in enumerate(vehicles)
        ],
        distance_matrices=distances,
        duration_matrices=durations,
    )
    del distances, durations
    best = pyvrp.solve(data, MaxRuntime(time_limit), seed=seed, display=False).best
    routes = []
    for route in best.routes():
        vehicle = vehicles[route.vehicle_type()]
        stops = [
            Stop(
                job_id=jobs[a.idx].id,
                arrival=a.start_time - a.wait_duration,
                start=a.start_time,
                end=a.end_time,
            )
            for a in route.schedule()
            if a.is_client()
        ]
        routes.append(_route(problem, vehicle, stops, route.start_time(), route.end_time(), []))
    return _solution(problem, routes, "pyvrp")


def solve_ortools(problem: Problem, *, time_limit: float, seed: int) -> Solution:
    """OR-Tools routing: break intervals per vehicle, skills as VehicleVar domains."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    vehicles, jobs = problem.vehicles, problem.jobs
    n_homes = len(vehicles)
    nodes = len(problem.duration)
    manager = pywrapcp.RoutingIndexManager(
        nodes, len(vehicles), [v.start for v in vehicles], [v.end for v in vehicles]
    )
    routing = pywrapcp.RoutingModel(manager)
    service = np.zeros(nodes, dtype=np.int64)
    for j, job in enumerate(jobs):
        service[n_homes + j] = job.service
    arc = routing.RegisterTransitMatrix(problem.distances.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(arc)
    clock = routing.RegisterTransitMatrix((problem.duration + service[:, None]).tolist())
    horizon = 24 * HOUR
    routing.AddDimension(clock, horizon, horizon, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    unit = 2 * int(problem.distances.max()) + 1
    for j, job in enumerate(jobs):
        index = manager.NodeToIndex(n_homes + j)
        time_dim.CumulVar(index).SetRange(job.tw_start, job.tw_end)
        allowed = [i for i, v in enumerate(vehicles) if job.skills <= v.skills]
        routing.VehicleVar(index).SetValues([-1, *allowed])
        routing.AddDisjunction([index], job.priority * unit)
    solver = routing.solver()
    for i, v in enumerate(vehicles):
        time_dim.CumulVar(routing.Start(i)).SetRange(v.shift_start, v.shift_end)
        time_dim.CumulVar(routing.End(i)).SetRange(v.shift_start, v.shift_end)
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.Start(i)))
        routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(routing.Start(i)))
        if v.break_window is not None:
            brk = solver.FixedDurationIntervalVar(
                v.break_window[0], v.break_window[1], v.break_duration, False, f"lunch{i}"
            )
            time_dim.SetBreakIntervalsOfVehicle([brk], i, service.tolist())
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, ORTOOLS_FIRST_SOLUTION
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(time_limit * 1000))
    assignment = routing.SolveWithParameters(params)
    routes = []
    if assignment is not None:
        breaks = {}
        intervals = assignment.IntervalVarContainer()
        for k in range(intervals.Size()):
            element = intervals.Element(k)
            name = element.Var().Name()
            if name.startswith("lunch") and element.PerformedValue():
                breaks[int(name[5:])] = Break(start=element.StartValue(), end=element.EndValue())
        for i, v in enumerate(vehicles):
            index = assignment.Value(routing.NextVar(routing.Start(i)))
            if routing.IsEnd(index):
                continue
            start = assignment.Value(time_dim.CumulVar(routing.Start(i)))
            stops, prev_end, prev = [], start, v.start
            while not routing.IsEnd(index):
                node = manager.IndexToNode(index)
                job = jobs[node - n_homes]
                begin = assignment.Value(time_dim.CumulVar(index))
                arrival = min(begin, prev_end + int(problem.duration[prev, node]))
                stops.append(
                    Stop(job_id=job.id, arrival=arrival, start=begin, end=begin + job.service)
                )
                prev_end, prev = begin + job.service, node
                index = assignment.Value(routing.NextVar(index))
            end = assignment.Value(time_dim.CumulVar(index))
            lunch = [_snap(problem, v, stops, start, end, breaks[i])] if i in breaks else []
            routes.append(_route(problem, v, stops, start, end, lunch))
    return _solution(problem, routes, "ortools")


def _snap(problem, vehicle, stops, start, end, brk: Break) -> Break:
    """OR-Tools may split a drive around the break; the checker wants the drive whole, so the
    break moves within its gap (start still in its window) when the gap holds both."""
    jobs = {job.id: job for job in problem.jobs}
    places = [vehicle.start, *(jobs[s.job_id].location for s in stops), vehicle.end]
    ends = [start, *(s.end for s in stops)]
    starts = [*(s.start for s in stops), end]
    for k in range(len(ends)):
        if ends[k] <= brk.start and brk.end <= starts[k]:
            drive = int(problem.duration[places[k], places[k + 1]])
            length = brk.end - brk.start
            for moved in (
                max(brk.start, ends[k] + drive),
                min(brk.start, starts[k] - drive - length),
            ):
                if vehicle.break_window[0] <= moved <= vehicle.break_window[1] and (
                    moved >= ends[k] + drive or moved + length <= starts[k] - drive
                ):
                    return Break(start=moved, end=moved + length)
    return brk


def _route(problem, vehicle, stops, start, end, breaks) -> SolverRoute:
    jobs = {job.id: job for job in problem.jobs}
    path = np.array([vehicle.start, *(jobs[s.job_id].location for s in stops), vehicle.end])
    return SolverRoute(
        vehicle_id=vehicle.id,
        stops=stops,
        start=start,
        end=end,
        travel=int(problem.duration[path[:-1], path[1:]].sum()),
        distance=int(problem.distances[path[:-1], path[1:]].sum()),
        breaks=breaks,
    )


def _solution(problem, routes, name) -> Solution:
    served = {s.job_id for r in routes for s in r.stops}
    unassigned = {job.id: "no_capacity" for job in problem.jobs if job.id not in served}
    return Solution(routes=routes, unassigned=unassigned, solver=name)


SOLVERS = {
    "product": solve_product,
    "product_no_margin": solve_product,
    "product_pyvrp": solve_product_pyvrp,
    "pyvrp": solve_pyvrp,
    "ortools": solve_ortools,
}


# --- one run, in its own process ---------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    technicians: int
    jobs: int
    budget: float
    seed: int


def run_one(solver: str, day: Day, margin_min: int) -> dict:
    margin = 0 if solver in ("pyvrp", "ortools", "product_no_margin") else margin_min * 60
    promised = field_day(technicians=day.technicians, jobs=day.jobs, seed=day.seed)
    planned = (
        field_day(technicians=day.technicians, jobs=day.jobs, seed=day.seed, margin=margin)
        if margin
        else promised
    )
    started = time.perf_counter()
    solution = SOLVERS[solver](planned, time_limit=day.budget, seed=day.seed)
    wall = time.perf_counter() - started
    found = check_solution(promised, solution)
    served = [s.job_id for r in solution.routes for s in r.stops]
    travel = sum(r.travel for r in solution.routes)
    qualified = {
        job.id: sum(job.skills <= v.skills for v in promised.vehicles) for job in promised.jobs
    }
    rare = {j for j, n in qualified.items() if n <= RARE_SHARE * len(promised.vehicles)}
    return {
        "planned": len(promised.jobs),
        "served": len(served),
        "violations": len(found),
        "violation_kinds": dict(Counter(v.kind for v in found)),
        "routes_breaking_lunch": len({v.vehicle_id for v in found if v.kind == "break"}),
        "travel_min": travel / 60,
        "rare_jobs": len(rare),
        "rare_unserved": len(rare - set(served)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "wall_s": wall,
        "reported_feasible": bool(solution.feasible),
    }


def run_in_subprocess(solver: str, day: Day, margin_min: int) -> dict:
    args = [sys.executable, "-m", "bench.fieldday", "--one", solver]
    args += ["--day", f"{day.technicians},{day.jobs},{day.budget},{day.seed}"]
    args += ["--margin", str(margin_min)]
    done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=3600)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        raise RuntimeError(f"{solver} failed on {day}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarise(runs: list[dict]) -> dict:
    total = {key: sum(r[key] for r in runs) for key in ("planned", "served", "violations")}
    kinds: Counter = Counter()
    for r in runs:
        kinds.update(r["violation_kinds"])
    served = total["served"]
    return {
        **total,
        "served_share": round(served / total["planned"], 4) if total["planned"] else None,
        "travel_min_per_served": round(sum(r["travel_min"] for r in runs) / served, 3)
        if served
        else None,
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
        "wall_s": round(sum(r["wall_s"] for r in runs) / len(runs), 2),
        "violation_kinds": dict(kinds),
        "routes_breaking_lunch": sum(r["routes_breaking_lunch"] for r in runs),
        "rare_jobs": sum(r["rare_jobs"] for r in runs),
        "rare_unserved": sum(r["rare_unserved"] for r in runs),
        "days": len(runs),
        "per_seed": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,medium,large")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--large-seeds", type=int, default=3)
    parser.add_argument("--solvers", default=",".join(SOLVERS))
    parser.add_argument("--margin", type=int, default=DEFAULT_MARGIN_MIN, help="minutes")
    parser.add_argument("--budget-scale", type=float, default=1.0)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--day", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    if args.one:
        technicians, jobs, budget, seed = args.day.split(",")
        day = Day(int(technicians), int(jobs), float(budget), int(seed))
        print(json.dumps(run_one(args.one, day, args.margin)))
        return

    solvers = args.solvers.split(",")
    results: dict = {}
    rows = []
    for size in args.sizes.split(","):
        technicians, jobs, budget = SIZES[size]
        seeds = args.large_seeds if size == "large" else args.seeds
        per_solver: dict[str, list] = {name: [] for name in solvers}
        for seed in range(seeds):
            day = Day(technicians, jobs, budget * args.budget_scale, seed)
            for name in solvers:
                run = run_in_subprocess(name, day, args.margin)
                per_solver[name].append(run)
                print(
                    f"{size} seed {seed} {name:18} served {run['served']}/{run['planned']}"
                    f" violations {run['violations']} {run['violation_kinds']}"
                    f" travel {run['travel_min']:.0f} min rss {run['peak_rss_mb']:.0f} MB"
                    f" wall {run['wall_s']:.1f} s",
                    flush=True,
                )
        summary = {name: summarise(runs) for name, runs in per_solver.items()}
        results[size] = {
            "technicians": technicians,
            "jobs": jobs,
            "budget_s": budget * args.budget_scale,
            "seeds": seeds,
            **summary,
        }
        rows.extend(_rows(size, summary))
    print(metrics_table(rows, metric=44, baseline=17))
    payload = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "versions": {name: version(name) for name in ("pyvrp", "ortools")},
        "margin_min": args.margin,
        "sizes": results,
    }
    Path(args.out).write_text(json.dumps(payload, indent=2) + "\n")


def _rows(size: str, summary: dict) -> list[tuple]:
    product, pyvrp, ortools = (summary.get(k) for k in ("product", "pyvrp", "ortools"))
    if product is None:
        return []
    rows = [
        (
            f"{size}: product violations",
            product["violations"],
            "",
            "",
            0,
            product["violations"] == 0,
        )
    ]
    if ortools:
        rows.append(
            (
                f"{size}: served (vs ortools)",
                product["served"],
                ortools["served"],
                round(product["served"] / max(1, ortools["served"]), 3),
                ">=1",
                product["served"] >= ortools["served"],
            )
        )
    if pyvrp:
        ratio = product["travel_min_per_served"] / pyvrp["travel_min_per_served"]
        rows.append(
            (
                f"{size}: travel min/served (vs pyvrp)",
                product["travel_min_per_served"],
                pyvrp["travel_min_per_served"],
                round(ratio, 3),
                "<=1.02",
                ratio <= 1.02,
            )
        )
        rss = product["peak_rss_mb"] / pyvrp["peak_rss_mb"]
        rows.append(
            (
                f"{size}: peak RSS MB (vs pyvrp)",
                product["peak_rss_mb"],
                pyvrp["peak_rss_mb"],
                round(rss, 3),
                "<=1",
                rss <= 1,
            )
        )
    if "product_no_margin" in summary:
        rows.append(
            (
                f"{size}: served without margin (vs with)",
                summary["product_no_margin"]["served"],
                product["served"],
                "",
                None,
                None,
            )
        )
    return rows


if __name__ == "__main__":
    main()
