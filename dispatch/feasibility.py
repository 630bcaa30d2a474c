"""An independent check of a plan against the day's rules, before anything is written.

It shares no code with any solver backend: only the plain `Problem`/`Solution` dataclasses. A
solver's own idea of feasibility is never trusted; every plan the product applies (and every
plan a benchmark scores) goes through `check_solution`.

Rules, with the `Violation.kind` each breaks:
- `unknown_vehicle`, `unknown_job`: the plan names a technician or job the problem lacks.
- `duplicate`: a job served twice, or served and also left out; a technician with two routes.
- `missing`: a job neither served nor left out.
- `skills`, `pinned`, `excluded`: who may serve the job.
- `window`: service starts outside the job's window [tw_start, tw_end].
- `shift`: the route leaves before the shift starts, is home after it ends, is on the road for
  longer than `max_duration`, or carries more than the vehicle's capacity.
- `travel`: the times do not add up — arrival before the previous stop's end plus the travel
  time (plus the break, when it is taken in that gap), service starting before arrival, or a
  service shorter or longer than the job's.
- `break`: a vehicle with a break window has not exactly one break of its length starting
  inside the window, within the shift, and clear of every service and every drive.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.routing.problem import Break, Problem, Solution, SolverRoute, Vehicle

KINDS = frozenset(
    {
        "skills",
        "window",
        "shift",
        "break",
        "duplicate",
        "missing",
        "pinned",
        "excluded",
        "travel",
        "unknown_job",
        "unknown_vehicle",
    }
)


@dataclass(frozen=True, slots=True)
class Violation:
    kind: str
    vehicle_id: str | None
    job_id: str | None
    detail: str


def check_solution(problem: Problem, solution: Solution) -> list[Violation]:
    """Every rule `solution` breaks; an empty list means the plan can be applied."""
    vehicles = {vehicle.id: vehicle for vehicle in problem.vehicles}
    jobs = {job.id: job for job in problem.jobs}
    found: list[Violation] = []
    served: dict[str, str] = {}
    routed_vehicles: set[str] = set()
    for route in solution.routes:
        vehicle = vehicles.get(route.vehicle_id)
        if vehicle is None:
            found.append(Violation("unknown_vehicle", route.vehicle_id, None, "no such technician"))
            continue
        if route.vehicle_id in routed_vehicles:
            found.append(Violation("duplicate", route.vehicle_id, None, "two routes"))
        routed_vehicles.add(route.vehicle_id)
        for stop in route.stops:
            if stop.job_id not in jobs:
                found.append(Violation("unknown_job", route.vehicle_id, stop.job_id, "no such job"))
            elif stop.job_id in served:
                found.append(
                    Violation(
                        "duplicate",
                        route.vehicle_id,
                        stop.job_id,
                        f"also served by {served[stop.job_id]}",
                    )
                )
            else:
                served[stop.job_id] = route.vehicle_id
        found.extend(_route_violations(problem, vehicle, route, jobs))

    for job_id in solution.unassigned:
        if job_id not in jobs:
            found.append(Violation("unknown_job", None, job_id, "left out, but no such job"))
        elif job_id in served:
            found.append(Violation("duplicate", served[job_id], job_id, "served and also left out"))
    for job_id in jobs:
        if job_id not in served and job_id not in solution.unassigned:
            found.append(Violation("missing", None, job_id, "neither served nor left out"))
    return found


def _route_violations(problem: Problem, vehicle: Vehicle, route: SolverRoute, jobs) -> list:
    found: list[Violation] = []
    vid = vehicle.id

    def add(kind: str, job_id: str | None, detail: str) -> None:
        found.append(Violation(kind, vid, job_id, detail))

    if route.start < vehicle.shift_start:
        add("shift", None, f"leaves at {route.start}, before the shift at {vehicle.shift_start}")
    if route.end > vehicle.shift_end:
        add("shift", None, f"home at {route.end}, after the shift ends at {vehicle.shift_end}")
    if vehicle.max_duration is not None and route.end - route.start > vehicle.max_duration:
        add("shift", None, f"out {route.end - route.start}s, longer than {vehicle.max_duration}s")
    if route.end < route.start:
        add("travel", None, "comes home before leaving")

    known = [stop for stop in route.stops if stop.job_id in jobs]
    load = sum(jobs[stop.job_id].demand for stop in known)
    if vehicle.capacity is not None and load > vehicle.capacity:
        add("shift", None, f"carries {load}, more than the capacity {vehicle.capacity}")

    for stop in known:
        job = jobs[stop.job_id]
        if not job.skills <= vehicle.skills:
            add("skills", job.id, f"lacks {', '.join(sorted(job.skills - vehicle.skills))}")
        if job.pinned_to is not None and job.pinned_to != vid:
            add("pinned", job.id, f"pinned to {job.pinned_to}")
        if vid in job.excluded:
            add("excluded", job.id, "this technician is excluded from the job")
        if not job.tw_start <= stop.start <= job.tw_end:
            add("window", job.id, f"starts at {stop.start}, window {job.tw_start}-{job.tw_end}")
        if stop.start < stop.arrival:
            add("travel", job.id, f"starts at {stop.start}, before arriving at {stop.arrival}")
        if stop.end - stop.start != job.service:
            took = stop.end - stop.start
            add("travel", job.id, f"service of {took}s, the job takes {job.service}s")

    # The gaps a break may fill: at home before leaving, between consecutive activities, at home
    # after coming back. Each inner gap must hold the drive, and the break when it is taken there.
    places = [vehicle.start, *(jobs[stop.job_id].location for stop in known), vehicle.end]
    ends = [route.start, *(stop.end for stop in known)]
    arrivals = [*(stop.arrival for stop in known), route.end]
    starts = [*(stop.start for stop in known), route.end]
    breaks = sorted(route.breaks, key=lambda b: b.start)
    used: set[int] = set()
    for k in range(len(ends)):
        drive = int(problem.duration[places[k], places[k + 1]])
        job_id = known[k].job_id if k < len(known) else None
        if arrivals[k] < ends[k] + drive:
            add("travel", job_id, f"arrives at {arrivals[k]}, the drive ends at {ends[k] + drive}")
        for b, brk in enumerate(breaks):
            if brk.start >= ends[k] and brk.end <= starts[k]:
                used.add(b)
                # The drive is either all before the break or all after it.
                if brk.start - ends[k] < drive and starts[k] - brk.end < drive:
                    add("travel", job_id, f"break {brk.start}-{brk.end} cuts the drive")
    for b, brk in enumerate(breaks):
        at_home = brk.end <= route.start or brk.start >= route.end
        if b not in used and not at_home:
            add("break", None, f"break {brk.start}-{brk.end} overlaps a service or a drive")
    found.extend(_break_violations(vehicle, breaks))
    return found


def _break_violations(vehicle: Vehicle, breaks: list[Break]) -> list[Violation]:
    found: list[Violation] = []
    vid = vehicle.id
    for brk in breaks:
        if brk.start < vehicle.shift_start or brk.end > vehicle.shift_end:
            found.append(Violation("break", vid, None, f"break {brk.start}-{brk.end} off shift"))
    if vehicle.break_window is None or vehicle.break_duration <= 0:
        return found
    if len(breaks) != 1:
        found.append(Violation("break", vid, None, f"{len(breaks)} breaks, expected one"))
        return found
    brk = breaks[0]
    opens, closes = vehicle.break_window
    if not opens <= brk.start <= closes:
        found.append(
            Violation("break", vid, None, f"break starts at {brk.start}, window {opens}-{closes}")
        )
    if brk.end - brk.start < vehicle.break_duration:
        found.append(
            Violation(
                "break",
                vid,
                None,
                f"break of {brk.end - brk.start}s, shorter than {vehicle.break_duration}s",
            )
        )
    return found
