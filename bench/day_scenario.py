"""A seeded city day for `bench.day`: technicians, planned jobs with agreed windows, emergencies,
and the noise reality adds (actual durations and travel). Pure data, shared by both policies so
they face exactly the same day."""

import math
import random
from dataclasses import dataclass, field

CENTER = (43.2380, 76.8890)  # Almaty
SKILLS = ("fiber", "copper", "tv")
WINDOW_STARTS = (9, 11, 13, 15, 17)  # two-hour agreed windows, local time
SHIFT = (8, 20)
SPEED_KMH, DETOUR = 30.0, 1.3


@dataclass(frozen=True)
class TechnicianSpec:
    key: int
    home: tuple[float, float]
    skills: frozenset[str]


@dataclass(frozen=True)
class JobSpec:
    key: int
    point: tuple[float, float]
    minutes: int  # the estimate the dispatcher knows
    skill: str | None
    window_hour: int | None = None  # planned jobs
    arrives_minute: float | None = None  # emergencies: minutes after midnight
    duration_noise: float = 1.0  # actual = estimate × noise
    travel_noise: float = 1.0  # the trip to this job takes model time × noise

    @property
    def actual_minutes(self) -> float:
        return self.minutes * self.duration_noise


@dataclass
class Scenario:
    technicians: list[TechnicianSpec] = field(default_factory=list)
    planned: list[JobSpec] = field(default_factory=list)
    emergencies: list[JobSpec] = field(default_factory=list)


def _point(rng: random.Random, spread_km: float) -> tuple[float, float]:
    return (
        round(CENTER[0] + rng.uniform(-1, 1) * spread_km / 111.0, 6),
        round(CENTER[1] + rng.uniform(-1, 1) * spread_km / 81.0, 6),
    )


def _noise(rng: random.Random, sigma: float) -> float:
    return min(2.0, max(0.5, math.exp(rng.gauss(0, sigma))))


def make_scenario(*, technicians: int, jobs: int, emergencies: int, seed: int) -> Scenario:
    rng = random.Random(seed)
    scenario = Scenario()
    for key in range(technicians):
        skills = frozenset(rng.sample(SKILLS, 3 if rng.random() < 0.3 else 2))
        scenario.technicians.append(TechnicianSpec(key, _point(rng, 12), skills))
    for key in range(jobs):
        scenario.planned.append(
            JobSpec(
                key=key,
                point=_point(rng, 9),
                minutes=rng.choice((20, 30, 40, 45, 60)),
                skill=rng.choice(SKILLS) if rng.random() < 0.3 else None,
                window_hour=rng.choice(WINDOW_STARTS),
                duration_noise=_noise(rng, 0.2),
                travel_noise=_noise(rng, 0.15),
            )
        )
    for key in range(emergencies):
        scenario.emergencies.append(
            JobSpec(
                key=jobs + key,
                point=_point(rng, 9),
                minutes=45,
                skill=rng.choice(SKILLS) if rng.random() < 0.3 else None,
                arrives_minute=rng.uniform(8.5 * 60, 18.5 * 60),
                duration_noise=_noise(rng, 0.25),
                travel_noise=_noise(rng, 0.15),
            )
        )
    scenario.emergencies.sort(key=lambda job: job.arrives_minute)
    return scenario


def travel_minutes(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The same great-circle model the product uses by default."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    km = 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h))) * DETOUR
    return km / SPEED_KMH * 60
