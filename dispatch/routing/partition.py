"""A large day cut into parts that each fit one solver run, and the plain data a part travels as.

Pure Python and numpy, no Django, no Celery. A day (`PlainDay`: coordinates, vehicles, jobs, each
vehicle's territory) is split first by territory, then, where a territory has more technicians
than `part_size`, into geographic clusters: k-means on the jobs' coordinates, technicians given
to clusters by their home, in proportion to each cluster's work. Every job and every technician
is in exactly one part; a technician's vehicles (the segments between fixed work) stay together,
and a job pinned to a vehicle goes where that vehicle goes. Deterministic for a given day.

A part travels as plain data (`part_payload`): its own coordinates, re-indexed vehicles and
jobs; whoever solves it builds the travel matrix from the coordinates. After every part is
solved, `boundary_part` gathers, per territory, the jobs the parts left out and the idle
technicians living nearest to them, for a second solve together.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np

from dispatch.routing import problem as routing_problem
from dispatch.routing.problem import (
    Problem,
    Solution,
    SolverJob,
    SolverRoute,
    Stop,
    UnassignedReason,
    Vehicle,
)

Point = tuple[float, float]  # (lat, lon)
KMEANS_ROUNDS = 25
# A job is compared with a territory's homes when it lies within this of their bounding box.
BOX_MARGIN_KM = 30.0
# The boundary pass offers each left-out job this many of the nearest idle technicians.
BOUNDARY_NEIGHBOURS = 8


@dataclass(frozen=True, kw_only=True)
class PlainDay:
    """A day before any travel matrix: `Vehicle.start/end` and `SolverJob.location` index
    `points`. `regions[i]` is vehicle i's territory ("" when it has none)."""

    points: Sequence[Point]
    vehicles: Sequence[Vehicle]
    jobs: Sequence[SolverJob]
    regions: Sequence[str] = ()

    def region_of(self, i: int) -> str:
        return self.regions[i] if self.regions else ""


@dataclass(frozen=True, kw_only=True)
class Part:
    key: str  # "<territory>/<cluster>", or "<territory>/boundary"
    region: str
    vehicles: tuple[int, ...]  # indexes into the day's vehicles
    jobs: tuple[int, ...]  # indexes into the day's jobs


def owner_of(vehicle_id: str) -> str:
    """The technician a vehicle belongs to: the planner names segments `t<pk>.<n>`."""
    return vehicle_id.rsplit(".", 1)[0]


def partition_day(*, day: PlainDay, part_size: int, seed: int = 0) -> list[Part]:
    """The day's parts: by territory, then clusters of at most `part_size` technicians."""
    if part_size < 1:
        raise ValueError("part_size must be at least 1")
    xy = _planar(day.points)
    owners: dict[str, list[int]] = defaultdict(list)  # technician -> their vehicles, in order
    for i, vehicle in enumerate(day.vehicles):
        owners[owner_of(vehicle.id)].append(i)
    region_owners: dict[str, list[str]] = defaultdict(list)
    for owner, members in owners.items():
        region_owners[day.region_of(members[0])].append(owner)

    job_region = _job_regions(day, xy, owners)
    region_jobs: dict[str, list[int]] = defaultdict(list)
    for j, region in enumerate(job_region):
        region_jobs[region].append(j)

    vehicle_index = {vehicle.id: i for i, vehicle in enumerate(day.vehicles)}
    parts: list[Part] = []
    for region in sorted(set(region_owners) | set(region_jobs)):
        technicians = sorted(region_owners.get(region, []))
        jobs = region_jobs.get(region, [])
        clusters = max(1, math.ceil(len(technicians) / part_size))
        if clusters == 1:
            vehicles = [i for owner in technicians for i in owners[owner]]
            parts.append(_part(f"{region}/0", region, vehicles, jobs))
            continue
        job_cluster = _kmeans(xy[[day.jobs[j].location for j in jobs]], clusters, seed=seed)
        work = np.bincount(
            job_cluster, weights=[day.jobs[j].service + 600 for j in jobs], minlength=clusters
        )
        centres = _centres(xy[[day.jobs[j].location for j in jobs]], job_cluster, clusters)
        homes = xy[[day.vehicles[owners[owner][-1]].end for owner in technicians]]
        owner_cluster = _assign_balanced(homes, centres, _quotas(work, len(technicians)))
        members: list[list[int]] = [[] for _ in range(clusters)]
        for k, owner in enumerate(technicians):
            members[owner_cluster[k]].extend(owners[owner])
        cluster_jobs: list[list[int]] = [[] for _ in range(clusters)]
        vehicle_cluster = {i: c for c in range(clusters) for i in members[c]}
        for j, c in zip(jobs, job_cluster, strict=True):
            pinned = day.jobs[j].pinned_to
            if pinned is not None and pinned in vehicle_index:
                c = vehicle_cluster.get(vehicle_index[pinned], c)
            cluster_jobs[c].append(j)
        for c in range(clusters):
            parts.append(_part(f"{region}/{c}", region, members[c], cluster_jobs[c]))
    return [part for part in parts if part.vehicles or part.jobs]


def _part(key: str, region: str, vehicles: list[int], jobs: list[int]) -> Part:
    return Part(key=key, region=region, vehicles=tuple(sorted(vehicles)), jobs=tuple(sorted(jobs)))


def _planar(points: Sequence[Point]) -> np.ndarray:
    """Kilometres on a local plane (equirectangular): good enough to cluster a city."""
    coords = np.asarray(points, dtype=float).reshape(-1, 2)
    if not len(coords):
        return coords
    lat = np.radians(coords[:, 0])
    return np.column_stack([coords[:, 0] * 111.2, coords[:, 1] * 111.2 * np.cos(lat)])


def _nearest(frm: np.ndarray, to: np.ndarray, *, chunk: int = 4096) -> np.ndarray:
    """For each row of `frm`, the index of the nearest row of `to` (memory bounded):
    |a - b|² = |a|² - 2 a·b + |b|², and |a|² does not change which b is nearest."""
    out = np.empty(len(frm), dtype=np.int64)
    to_squared = (to**2).sum(axis=1)
    for begin in range(0, len(frm), chunk):
        block = frm[begin : begin + chunk]
        out[begin : begin + chunk] = (to_squared[None, :] - 2 * block @ to.T).argmin(axis=1)
    return out


def _job_regions(day: PlainDay, xy: np.ndarray, owners: dict[str, list[int]]) -> list[str]:
    """A job belongs to the territory of its pinned vehicle, else of the nearest home. Homes
    are searched territory by territory, among the jobs inside its box (plus a margin), so a
    national day does not compare every job with every home."""
    if not day.vehicles:
        return ["" for _ in day.jobs]
    index = {vehicle.id: i for i, vehicle in enumerate(day.vehicles)}
    homes = xy[[vehicle.start for vehicle in day.vehicles]]
    jobs = xy[[job.location for job in day.jobs]].reshape(-1, 2)
    best = np.full(len(jobs), np.inf)
    nearest = np.full(len(jobs), -1, dtype=np.int64)
    by_region: dict[str, list[int]] = defaultdict(list)
    for i in range(len(day.vehicles)):
        by_region[day.region_of(i)].append(i)
    for members in by_region.values():
        members = np.array(members)
        low, high = homes[members].min(axis=0) - BOX_MARGIN_KM, homes[members].max(axis=0)
        inside = np.flatnonzero(((jobs >= low) & (jobs <= high + BOX_MARGIN_KM)).all(axis=1))
        if not len(inside):
            continue
        near = members[_nearest(jobs[inside], homes[members])]
        squared = ((jobs[inside] - homes[near]) ** 2).sum(axis=1)
        better = squared < best[inside]
        best[inside[better]], nearest[inside[better]] = squared[better], near[better]
    outside = np.flatnonzero(nearest == -1)
    if len(outside):
        nearest[outside] = _nearest(jobs[outside], homes)
    regions = []
    for job, near in zip(day.jobs, nearest, strict=True):
        vehicle = index.get(job.pinned_to) if job.pinned_to is not None else None
        regions.append(day.region_of(int(near) if vehicle is None else vehicle))
    return regions


def _kmeans(xy: np.ndarray, k: int, *, seed: int) -> np.ndarray:
    """Lloyd's k-means with a seeded k-means++ start: the cluster of each point."""
    if len(xy) <= k:
        return np.arange(len(xy), dtype=np.int64) % max(k, 1)
    rng = np.random.default_rng(seed)
    centres = [xy[rng.integers(len(xy))]]
    for _ in range(1, k):
        squared = ((xy[:, None, :] - np.array(centres)[None]) ** 2).sum(axis=2).min(axis=1)
        total = squared.sum()
        pick = rng.choice(len(xy), p=squared / total) if total > 0 else rng.integers(len(xy))
        centres.append(xy[pick])
    centre = np.array(centres)
    label = _nearest(xy, centre)
    for _ in range(KMEANS_ROUNDS):
        for c in range(k):
            if (label == c).any():
                centre[c] = xy[label == c].mean(axis=0)
        relabelled = _nearest(xy, centre)
        if (relabelled == label).all():
            break
        label = relabelled
    return label


def _centres(xy: np.ndarray, label: np.ndarray, k: int) -> np.ndarray:
    centre = np.zeros((k, 2))
    for c in range(k):
        if (label == c).any():
            centre[c] = xy[label == c].mean(axis=0)
    return centre


def _quotas(work: np.ndarray, technicians: int) -> list[int]:
    """Technicians per cluster in proportion to its work (largest remainder, at least one
    each while there are technicians enough)."""
    k = len(work)
    share = work / work.sum() * technicians if work.sum() > 0 else np.full(k, technicians / k)
    quota = np.floor(share).astype(int)
    if technicians >= k:
        quota = np.maximum(quota, 1)
    while quota.sum() > technicians:
        quota[int(np.argmax(quota - share))] -= 1
    for c in np.argsort(-(share - quota), kind="stable"):
        if quota.sum() >= technicians:
            break
        quota[c] += 1
    return quota.tolist()


def _assign_balanced(homes: np.ndarray, centres: np.ndarray, quotas: list[int]) -> np.ndarray:
    """Each technician to a cluster near home, no cluster over its quota: the closest
    (technician, cluster) pairs first."""
    squared = ((homes[:, None, :] - centres[None]) ** 2).sum(axis=2)
    order = np.argsort(squared, axis=None, kind="stable")
    left = list(quotas)
    cluster = np.full(len(homes), -1, dtype=np.int64)
    for flat in order:
        t, c = divmod(int(flat), len(centres))
        if cluster[t] == -1 and left[c] > 0:
            cluster[t] = c
            left[c] -= 1
    return cluster


# ---------------------------------------------------------------- the boundary pass


def boundary_part(
    *, day: PlainDay, region: str, left_out: Sequence[int], idle: Sequence[int]
) -> Part | None:
    """The jobs of `region` no part served, with the idle technicians (their vehicles) living
    nearest to them, as one more part; None when there is nothing to try."""
    if not left_out or not idle:
        return None
    xy = _planar(day.points)
    owners: dict[str, list[int]] = defaultdict(list)
    for i in idle:
        owners[owner_of(day.vehicles[i].id)].append(i)
    names = sorted(owners)
    homes = xy[[day.vehicles[owners[name][-1]].end for name in names]]
    jobs = xy[[day.jobs[j].location for j in left_out]]
    chosen: set[str] = set()
    take = min(BOUNDARY_NEIGHBOURS, len(names))
    for begin in range(0, len(jobs), 1024):
        block = jobs[begin : begin + 1024]
        squared = ((block[:, None, :] - homes[None]) ** 2).sum(axis=2)
        nearest = np.argpartition(squared, take - 1, axis=1)[:, :take]
        chosen.update(names[k] for k in np.unique(nearest))
    vehicles = [i for name in sorted(chosen) for i in owners[name]]
    return _part(f"{region}/boundary", region, vehicles, list(left_out))


# ---------------------------------------------------------------- parts as plain data


def part_payload(*, day: PlainDay, part: Part) -> dict:
    """What a worker needs to plan `part`: its own coordinates, vehicles and jobs, JSON-ready."""
    local: dict[int, int] = {}

    def at(index: int) -> int:
        return local.setdefault(index, len(local))

    vehicles = [
        _plain(day.vehicles[i], start=at(day.vehicles[i].start), end=at(day.vehicles[i].end))
        for i in part.vehicles
    ]
    jobs = [_plain(day.jobs[j], location=at(day.jobs[j].location)) for j in part.jobs]
    points = [[0.0, 0.0]] * len(local)
    for index, k in local.items():
        points[k] = [float(day.points[index][0]), float(day.points[index][1])]
    return {"key": part.key, "points": points, "vehicles": vehicles, "jobs": jobs}


def _plain(item: Vehicle | SolverJob, **overrides) -> dict:
    values = {f.name: getattr(item, f.name) for f in fields(item)}
    values.update(overrides)
    for name, value in values.items():
        if isinstance(value, frozenset):
            values[name] = sorted(value)
        elif isinstance(value, tuple):
            values[name] = list(value)
    return values


def problem_from_payload(
    payload: dict, *, matrix: Callable[[list[Point]], tuple[np.ndarray, np.ndarray]]
) -> Problem:
    """The part as a `Problem`, its travel matrices built here from its coordinates."""
    points = [tuple(point) for point in payload["points"]] or [(0.0, 0.0)]
    duration, distance = matrix(points)
    vehicles = [
        Vehicle(
            **{
                **v,
                "skills": frozenset(v["skills"]),
                "break_window": tuple(v["break_window"]) if v.get("break_window") else None,
            }
        )
        for v in payload["vehicles"]
    ]
    jobs = [
        SolverJob(**{**j, "skills": frozenset(j["skills"]), "excluded": frozenset(j["excluded"])})
        for j in payload["jobs"]
    ]
    return Problem(vehicles=vehicles, jobs=jobs, duration=duration, distance=distance)


def solution_payload(solution: Solution) -> dict:
    return {
        "routes": [_route_payload(route) for route in solution.routes],
        "unassigned": {job_id: str(reason) for job_id, reason in solution.unassigned.items()},
        "cost": solution.cost,
        "feasible": solution.feasible,
        "solver": solution.solver,
        "runtime_s": solution.runtime_s,
    }


def _route_payload(route: SolverRoute) -> dict:
    plain = {
        "vehicle_id": route.vehicle_id,
        "stops": [[s.job_id, s.arrival, s.start, s.end] for s in route.stops],
        "start": route.start,
        "end": route.end,
        "travel": route.travel,
        "distance": route.distance,
    }
    breaks = getattr(route, "breaks", None)  # placed breaks, where the routes carry them
    if breaks:
        plain["breaks"] = [[b.start, b.end] for b in breaks]
    return plain


def _route(plain: dict) -> SolverRoute:
    extra = {}
    if plain.get("breaks"):  # only routes that carry breaks (routing_problem.Break) have any
        extra["breaks"] = [routing_problem.Break(start=s, end=e) for s, e in plain["breaks"]]
    return SolverRoute(
        vehicle_id=plain["vehicle_id"],
        stops=[
            Stop(job_id=job_id, arrival=arrival, start=start, end=end)
            for job_id, arrival, start, end in plain["stops"]
        ],
        start=plain["start"],
        end=plain["end"],
        travel=plain["travel"],
        distance=plain["distance"],
        **extra,
    )


def solution_from_payload(payload: dict) -> Solution:
    return Solution(
        routes=[_route(route) for route in payload["routes"]],
        unassigned={job_id: UnassignedReason(r) for job_id, r in payload["unassigned"].items()},
        cost=payload["cost"],
        feasible=payload["feasible"],
        solver=payload["solver"],
        runtime_s=payload["runtime_s"],
    )
