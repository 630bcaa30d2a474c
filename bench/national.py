"""A national day planned in parts on real Celery workers, beside a whole-city solve.

    python -m bench.national [--technicians 3000 --jobs 30000 --part-size 150
                              --part-seconds 15 --city-seconds 60 --workers 2 --seed 1]

(`make bench-national` runs it with the embedded servers when DATABASE_URL / REDIS_URL are
unset.)

A seeded carrier (`national_day`): ten cities of 100 to 600 technicians, ten planned jobs per
technician, in the style of bench/day_scenario.py (2-hour agreed windows 09/11/13/15/17,
20–60 minute estimates, 30 % of jobs needing one of three skills, technicians with two or three,
shifts 08:00–20:00 with the lunch reserved as the planner does). The day is planned by the
product's partitioned path (dispatch/engine/national.py): split by city, then by k-means
clusters, each part a `plan_part` task on the `plan` queue, served by `--workers` real Celery
worker processes started here (each `-c 1`, bounded by `timeout`, stopped at the end), then the
boundary pass. Each part's plan is checked by dispatch.feasibility in the worker; the merged plan
is checked again here for jobs served twice and technicians given two routes.

Then one 300-technician city is solved whole (one process, `--city-seconds`), beside its
partitioned result from the national run.

The routing layer only: the plan is not written to the database (apply_plan), and the national
wall time is from the first part sent to the last boundary route read back.

Prints a table and writes bench/results/national.json.
"""

import argparse
import json
import math
import os
import platform
import random
import resource
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.day_scenario import SKILLS
from devtools.devstack import recreate_database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
DB_NAME = os.environ.get("BENCH_DB_NAME", "dispatch_bench_national")
TRAVEL = {"speed_kmh": 30.0, "detour": 1.3}  # the tenant defaults, as bench/day
HOUR = 3600
SHIFT = (8 * HOUR, 20 * HOUR)
LUNCH = 30 * 60
WINDOW_STARTS = (9, 11, 13, 15, 17)
# (name, centre, technicians out of 3,000): ten Kazakh cities.
CITIES = (
    ("almaty", (43.238, 76.889), 600),
    ("astana", (51.169, 71.449), 450),
    ("shymkent", (42.341, 69.590), 400),
    ("karaganda", (49.806, 73.085), 300),
    ("aktobe", (50.283, 57.167), 300),
    ("taraz", (42.900, 71.367), 250),
    ("pavlodar", (52.287, 76.967), 250),
    ("oskemen", (49.948, 82.628), 200),
    ("semey", (50.411, 80.227), 150),
    ("atyrau", (47.094, 51.924), 100),
)
COMPARED_CITY = "karaganda"  # 300 technicians


def national_day(*, technicians: int, jobs: int, seed: int, buffer_minutes: int):
    """The carrier's day as the planner would hand it to the solver (a `PlainDay`)."""
    from dispatch.routing import SolverJob, Vehicle
    from dispatch.routing.partition import PlainDay

    rng = random.Random(seed)
    total = sum(size for _, _, size in CITIES)
    points, vehicles, day_jobs, regions, job_city = [], [], [], [], []

    def point(centre, spread_km):
        points.append(
            (
                round(centre[0] + rng.uniform(-1, 1) * spread_km / 111.0, 6),
                round(centre[1] + rng.uniform(-1, 1) * spread_km / (111.0 * math.cos(0.8)), 6),
            )
        )
        return len(points) - 1

    for name, centre, share in CITIES:
        count = round(technicians * share / total)
        # Almaty's 100 technicians of bench/day live within 12 km: the same density here.
        scale = math.sqrt(count / 100)
        for _ in range(count):
            home = point(centre, 12 * scale)
            skills = frozenset(rng.sample(SKILLS, 3 if rng.random() < 0.3 else 2))
            vehicles.append(
                Vehicle(
                    id=f"t{len(vehicles)}.0",
                    start=home,
                    end=home,
                    shift_start=SHIFT[0],
                    shift_end=SHIFT[1],
                    skills=skills,
                    max_duration=SHIFT[1] - SHIFT[0] - LUNCH,
                )
            )
            regions.append(name)
        for _ in range(round(jobs * share / total)):
            opens = rng.choice(WINDOW_STARTS) * HOUR
            day_jobs.append(
                SolverJob(
                    id=f"r{len(day_jobs)}",
                    location=point(centre, 9 * scale),
                    service=rng.choice((20, 30, 40, 45, 60)) * 60,
                    tw_start=opens,
                    tw_end=opens + 2 * HOUR - buffer_minutes * 60,
                    skills=frozenset({rng.choice(SKILLS)}) if rng.random() < 0.3 else frozenset(),
                )
            )
            job_city.append(name)
    day = PlainDay(points=points, vehicles=vehicles, jobs=day_jobs, regions=regions)
    return day, job_city


def city_of(day, job_city, name):
    """One city's technicians and jobs alone, as a day of its own."""
    from dispatch.routing.partition import PlainDay

    vehicles = [v for v, region in zip(day.vehicles, day.regions, strict=True) if region == name]
    jobs = [j for j, city in zip(day.jobs, job_city, strict=True) if city == name]
    return PlainDay(points=day.points, vehicles=vehicles, jobs=jobs, regions=[name] * len(vehicles))


# ---------------------------------------------------------------- the workers


class Workers:
    """`count` Celery workers (`-c 1`, plan queue), each bounded by `timeout`."""

    def __init__(self, count: int, env: dict, *, bound_s: int, logs: Path):
        self.count, self.env, self.bound_s, self.logs = count, env, bound_s, logs
        self.processes: list[subprocess.Popen] = []

    def __enter__(self):
        from config.celery import app

        app.control.purge()  # nothing left over from an earlier run
        self.logs.mkdir(parents=True, exist_ok=True)
        for k in range(self.count):
            command = [
                "timeout",
                "-s",
                "TERM",
                str(self.bound_s),
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "-Q",
                "plan",
                "-c",
                "1",
                "-l",
                "WARNING",
                "-n",
                f"national{k}@%h",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ]
            with open(self.logs / f"worker{k}.log", "w") as log:
                self.processes.append(
                    subprocess.Popen(
                        command,
                        cwd=ROOT,
                        env=self.env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            replies = app.control.ping(timeout=1.0) or []
            if len(replies) >= self.count:
                return self
            if any(p.poll() is not None for p in self.processes):
                break
        self.__exit__(None, None, None)
        raise RuntimeError(f"the Celery workers did not start; see {self.logs}")

    def __exit__(self, *exc):
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


# ---------------------------------------------------------------- checks


def merged_violations(solution) -> list[str]:
    """What the per-part checks cannot see: a job served twice, a technician in two routes."""
    problems, seen_jobs, seen_vehicles = [], set(), set()
    for route in solution.routes:
        if route.vehicle_id in seen_vehicles:
            problems.append(f"{route.vehicle_id} has two routes")
        seen_vehicles.add(route.vehicle_id)
        for stop in route.stops:
            if stop.job_id in seen_jobs:
                problems.append(f"{stop.job_id} served twice")
            seen_jobs.add(stop.job_id)
    problems += [f"{job} both served and left out" for job in seen_jobs & set(solution.unassigned)]
    return problems


def whole_city(city, *, seconds: float, seed: int) -> dict:
    """The city solved whole in this process, as the planner solves a day below the size."""
    from dispatch.engine.national import feasibility_checker
    from dispatch.routing import Problem, get_solver
    from dispatch.travel import GreatCircle

    used = sorted({v.start for v in city.vehicles} | {j.location for j in city.jobs})
    local = {index: k for k, index in enumerate(used)}
    duration, distance = GreatCircle(**TRAVEL).matrix([city.points[i] for i in used])
    problem = Problem(
        vehicles=[
            v.__class__(**{**_fields(v), "start": local[v.start], "end": local[v.end]})
            for v in city.vehicles
        ],
        jobs=[j.__class__(**{**_fields(j), "location": local[j.location]}) for j in city.jobs],
        duration=duration,
        distance=distance,
    )
    started = time.perf_counter()
    solution = get_solver().solve(problem, time_limit=seconds, seed=seed)
    wall = time.perf_counter() - started
    check = feasibility_checker()
    violations = None if check is None else len(check(problem, solution))
    served = sum(len(route.stops) for route in solution.routes)
    return {
        "served": served,
        "travel_min_per_served": round(
            sum(route.travel for route in solution.routes) / 60 / max(1, served), 2
        ),
        "violations": violations,
        "wall_s": round(wall, 1),
    }


def _fields(item) -> dict:
    from dataclasses import fields

    return {f.name: getattr(item, f.name) for f in fields(item)}


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--technicians", type=int, default=3000)
    parser.add_argument("--jobs", type=int, default=30000)
    parser.add_argument("--part-size", type=int, default=150, help="technicians per part, at most")
    parser.add_argument("--part-seconds", type=float, default=15, help="solver time per part")
    parser.add_argument("--city-seconds", type=float, default=60, help="the whole-city solve")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", default=str(RESULTS / "national.json"))
    args = parser.parse_args()

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dispatch")
    os.environ["DATABASE_URL"] = recreate_database(base, DB_NAME)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.pop("CELERY_TASK_ALWAYS_EAGER", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from dispatch.engine.national import day_solve_partitioned, feasibility_checker

    call_command("migrate", verbosity=0)
    day, job_city = national_day(
        technicians=args.technicians,
        jobs=args.jobs,
        seed=args.seed,
        buffer_minutes=settings.PLAN_WINDOW_BUFFER_MINUTES,
    )
    print(
        f"· {len(day.vehicles)} technicians, {len(day.jobs)} jobs in {len(CITIES)} cities; "
        f"{args.workers} workers, parts of at most {args.part_size} technicians, "
        f"{args.part_seconds:g} s each",
        flush=True,
    )
    bound = int(60 + 3 * args.part_seconds * (len(day.vehicles) / args.part_size + 12))
    with Workers(args.workers, dict(os.environ), bound_s=bound, logs=ROOT / ".data" / "national"):
        started = time.perf_counter()
        plan = day_solve_partitioned(
            day=day,
            time_limit=args.part_seconds,
            travel=TRAVEL,
            part_size=args.part_size,
            seed=args.seed,
        )
        wall = time.perf_counter() - started
    solution = plan.solution
    served_ids = {stop.job_id for route in solution.routes for stop in route.stops}
    merged = merged_violations(solution)
    outcomes = plan.parts + plan.boundary
    checked = all(part.checked for part in outcomes)
    violations = sum(len(part.violations) for part in outcomes) + len(merged)
    rss_by_pid: dict[int, float] = {}
    for part in outcomes:
        rss_by_pid[part.worker_pid] = max(rss_by_pid.get(part.worker_pid, 0.0), part.peak_rss_mb)
    print(f"· national: {len(served_ids)} served in {wall:.0f} s; whole {COMPARED_CITY}…")

    city = city_of(day, job_city, COMPARED_CITY)
    city_ids = {job.id for job in city.jobs}
    whole = whole_city(city, seconds=args.city_seconds, seed=args.seed)
    city_partitioned = len(city_ids & served_ids)
    city_parts = [part for part in plan.parts if part.key.startswith(f"{COMPARED_CITY}/")]
    city_vehicles = {vehicle.id for vehicle in city.vehicles}
    city_travel = sum(r.travel for r in solution.routes if r.vehicle_id in city_vehicles)

    results = {
        "technicians": len(day.vehicles),
        "jobs": len(day.jobs),
        "served": len(served_ids),
        "served_pct": round(100 * len(served_ids) / len(day.jobs), 2),
        "violations": violations,
        "checked_by_feasibility": checked,
        "merged_violations": merged[:20],
        "wall_s": round(wall, 1),
        "peak_rss_mb_per_worker": max(rss_by_pid.values(), default=0.0),
        "rss_mb_by_worker_pid": {str(pid): mb for pid, mb in sorted(rss_by_pid.items())},
        "parts": len(plan.parts),
        "parts_not_applied": [part.key for part in outcomes if not part.applied],
        "parts_solved_by_caller": [part.key for part in outcomes if part.where != "worker"],
        "boundary_served": sum(part.served for part in plan.boundary),
        "boundary_jobs": sum(part.jobs for part in plan.boundary),
        "city": COMPARED_CITY,
        "city_technicians": len(city.vehicles),
        "city_jobs": len(city.jobs),
        "city_parts": len(city_parts),
        "city_partitioned_served": city_partitioned,
        "city_whole_served": whole["served"],
        "city_partitioned_travel_min_per_served": round(
            city_travel / 60 / max(1, city_partitioned), 2
        ),
        "city_whole_travel_min_per_served": whole["travel_min_per_served"],
        "city_whole_violations": whole["violations"],
        "city_whole_wall_s": whole["wall_s"],
        "city_partitioned_to_whole": round(city_partitioned / max(1, whole["served"]), 4),
        "part_detail": [
            {
                "key": p.key,
                "technicians_vehicles": p.vehicles,
                "jobs": p.jobs,
                "served": p.served,
                "violations": len(p.violations),
                "runtime_s": p.runtime_s,
                "peak_rss_mb": p.peak_rss_mb,
                "where": p.where,
            }
            for p in outcomes
        ],
        "settings": {
            "part_size": args.part_size,
            "part_seconds": args.part_seconds,
            "boundary_seconds": args.part_seconds / 2,
            "city_seconds": args.city_seconds,
            "workers": args.workers,
            "worker_concurrency": 1,
            "seed": args.seed,
            "window_buffer_minutes": settings.PLAN_WINDOW_BUFFER_MINUTES,
            "checker": "dispatch.feasibility" if feasibility_checker() else "absent",
        },
        "targets": {
            "violations": "== 0",
            "wall_s": "<= 600",
            "peak_rss_mb_per_worker": "<= 2000",
            "city_partitioned_to_whole": ">= 0.99",
        },
        "bench_process_peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "date": datetime.now(UTC).isoformat(),
        },
    }

    from bench.emergency_loop import metrics_table

    ratio = results["city_partitioned_to_whole"]
    print()
    print(
        metrics_table(
            [
                ("jobs served (of planned)", results["served"], results["jobs"], "", None, None),
                ("violations", violations, "", "", "0", violations == 0 and checked),
                ("wall (s)", results["wall_s"], "", "", "600", wall <= 600),
                (
                    "peak RSS per worker (MB)",
                    results["peak_rss_mb_per_worker"],
                    "",
                    "",
                    "2000",
                    results["peak_rss_mb_per_worker"] <= 2000,
                ),
                (
                    f"{COMPARED_CITY}: partitioned vs whole served",
                    city_partitioned,
                    whole["served"],
                    ratio,
                    "0.99",
                    ratio >= 0.99,
                ),
            ]
        )
    )
    if not checked:
        print("\nthe plans were NOT checked: dispatch.feasibility is not installed")
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
