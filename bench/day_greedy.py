"""The baseline for `bench.day`: greedy nearest-available dispatching, no optimisation.

When a technician is free, they take the waiting job they can start soonest (ties: the window
that closes first). An emergency goes, on arrival, to the technician who can be there soonest
and is served next. Same scenario, same noise, same travel model as the product run.
"""

import heapq
from dataclasses import dataclass, field

from bench.day_scenario import SHIFT, JobSpec, Scenario, travel_minutes


@dataclass
class Tech:
    spec: object
    free_at: float  # estimated, in minutes after midnight (what a dispatcher would believe)
    position: tuple[float, float]
    urgent: list[JobSpec] = field(default_factory=list)


def qualified(tech: Tech, job: JobSpec) -> bool:
    return job.skill is None or job.skill in tech.spec.skills


def run_greedy(scenario: Scenario) -> dict:
    shift_start, shift_end = SHIFT[0] * 60, SHIFT[1] * 60
    techs = [Tech(t, shift_start, t.home) for t in scenario.technicians]
    waiting = {job.key: job for job in scenario.planned}
    events = [(shift_start, 0, "free", i) for i in range(len(techs))]
    events += [(job.arrives_minute, 1, "emergency", job) for job in scenario.emergencies]
    heapq.heapify(events)
    served, to_site, travel_total, order = {}, {}, 0.0, 2

    def start_job(i: int, now: float, job: JobSpec) -> None:
        nonlocal travel_total, order
        tech = techs[i]
        trip = travel_minutes(tech.position, job.point) * job.travel_noise
        arrival = now + trip
        start = max(arrival, job.window_hour * 60) if job.window_hour else arrival
        travel_total += trip
        served[job.key] = start
        if job.arrives_minute is not None:
            to_site[job.key] = start - job.arrives_minute
        tech.position = job.point
        tech.free_at = start + job.actual_minutes
        order += 1
        heapq.heappush(events, (tech.free_at, order, "free", i))

    while events:
        now, _, kind, payload = heapq.heappop(events)
        if kind == "emergency":
            job = payload
            options = [
                (
                    max(now, t.free_at)
                    + travel_minutes(t.position, job.point)
                    + sum(u.minutes for u in t.urgent) * 1.0,
                    i,
                )
                for i, t in enumerate(techs)
                if qualified(t, job) and t.free_at < shift_end
            ]
            if options:
                _, best = min(options)
                techs[best].urgent.append(job)
                if techs[best].free_at <= now:  # idle: goes right away
                    techs[best].free_at = now
                    order += 1
                    heapq.heappush(events, (now, order, "free", best))
            continue
        i = payload
        tech = techs[i]
        if now < tech.free_at - 1e-9 or now >= shift_end:
            continue  # a stale wake-up, or the shift is over
        if tech.urgent:
            start_job(i, now, tech.urgent.pop(0))
            continue
        best = None
        for job in waiting.values():
            if not qualified(tech, job):
                continue
            arrival = now + travel_minutes(tech.position, job.point)
            start = max(arrival, job.window_hour * 60)
            if start > job.window_hour * 60 + 120 or start + job.minutes > shift_end:
                continue
            key = (start, job.window_hour)
            if best is None or key < best[0]:
                best = (key, job)
        if best is None:
            tech.free_at = now + 10  # nothing doable now: look again in ten minutes
            order += 1
            heapq.heappush(events, (tech.free_at, order, "free", i))
            continue
        job = best[1]
        del waiting[job.key]
        start_job(i, now, job)
    return {"served": served, "emergency_to_site": to_site, "travel_total": travel_total}
