"""Travel times between points: the default great-circle model, or an OSRM `table` server.

`matrix(points)` returns (seconds, metres) as square int64 arrays. The default model is
great-circle distance × the tenant's detour factor ÷ its average speed; with
`TRAVEL_BACKEND=osrm` and `OSRM_URL` set, road times come from OSRM's table service. Matrices
are cached per process by their exact point list, since the planner and the emergency rule ask
for the same technicians and jobs many times a minute.
"""

import json
import math
import urllib.request
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from threading import Lock

import numpy as np
from django.conf import settings

from core.geo import EARTH_RADIUS_KM

Point = tuple[float, float]  # (lat, lon)
CACHE_SIZE = 16


class TravelError(RuntimeError):
    """The travel backend failed; callers fall back to the great-circle model."""


@dataclass(frozen=True)
class GreatCircle:
    speed_kmh: float = 30.0
    detour: float = 1.3

    def matrix(self, points: Sequence[Point]) -> tuple[np.ndarray, np.ndarray]:
        coords = np.radians(np.asarray(points, dtype=float).reshape(-1, 2))
        lat, lon = coords[:, 0:1], coords[:, 1:2]
        a = (
            np.sin((lat.T - lat) / 2) ** 2
            + np.cos(lat) * np.cos(lat.T) * np.sin((lon.T - lon) / 2) ** 2
        )
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1))) * self.detour
        seconds = np.rint(km / self.speed_kmh * 3600).astype(np.int64)
        metres = np.rint(km * 1000).astype(np.int64)
        np.fill_diagonal(seconds, 0)
        np.fill_diagonal(metres, 0)
        return seconds, metres

    def seconds(self, origin: Point, destination: Point) -> int:
        """One pair, without numpy: the emergency rule asks this thousands of times per request,
        mostly for the same stops of the same routes (hence the cache)."""
        return _pair_seconds(origin, destination, self.speed_kmh, self.detour)


@lru_cache(maxsize=1 << 16)
def _pair_seconds(origin: Point, destination: Point, speed_kmh: float, detour: float) -> int:
    p1, p2 = math.radians(origin[0]), math.radians(destination[0])
    dp, dl = p2 - p1, math.radians(destination[1] - origin[1])
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a))) * detour
    return round(km / speed_kmh * 3600)


@dataclass(frozen=True)
class Osrm:
    url: str
    profile: str = "driving"
    timeout: float = 10.0

    def matrix(self, points: Sequence[Point]) -> tuple[np.ndarray, np.ndarray]:
        coordinates = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
        query = f"{self.url.rstrip('/')}/table/v1/{self.profile}/{coordinates}"
        query += "?annotations=duration,distance"
        try:
            with urllib.request.urlopen(query, timeout=self.timeout) as response:  # noqa: S310
                body = json.loads(response.read())
        except (OSError, ValueError) as error:
            raise TravelError(f"OSRM table request failed: {error}") from error
        if body.get("code") != "Ok":
            raise TravelError(f"OSRM answered {body.get('code')}: {body.get('message', '')}")
        # OSRM gives null for unreachable pairs; treat them as very far rather than free.
        seconds = np.array(
            [[v if v is not None else 86_400 for v in row] for row in body["durations"]]
        )
        metres = np.array(
            [[v if v is not None else 1_000_000 for v in row] for row in body["distances"]]
        )
        return np.rint(seconds).astype(np.int64), np.rint(metres).astype(np.int64)


class CachedTravel:
    """A bounded per-process cache in front of a model, keyed by the exact point list."""

    def __init__(self, model, *, fallback: GreatCircle, size: int = CACHE_SIZE):
        self.model, self.fallback, self.size = model, fallback, size
        self._cache: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = Lock()
        if isinstance(model, GreatCircle):  # the emergency rule's hot path: no indirection
            self.seconds = model.seconds

    def matrix(self, points: Sequence[Point]) -> tuple[np.ndarray, np.ndarray]:
        key = tuple((round(lat, 6), round(lon, 6)) for lat, lon in points)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        try:
            result = self.model.matrix(key)
        except TravelError:
            result = self.fallback.matrix(key)
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return result

    def seconds(self, origin: Point, destination: Point) -> int:
        return int(self.matrix([origin, destination])[0][0, 1])


_models: dict[tuple, CachedTravel] = {}


def travel_for(*, speed_kmh: float, detour: float) -> CachedTravel:
    """The configured travel model for a tenant's speed and detour factor."""
    backend = settings.TRAVEL_BACKEND
    key = (backend, settings.OSRM_URL, speed_kmh, detour)
    if key not in _models:
        fallback = GreatCircle(speed_kmh=speed_kmh, detour=detour)
        model = Osrm(settings.OSRM_URL) if backend == "osrm" else fallback
        _models[key] = CachedTravel(model, fallback=fallback)
    return _models[key]


def travel_for_tenant(tenant) -> CachedTravel:
    return travel_for(speed_kmh=tenant.travel_speed_kmh, detour=tenant.travel_detour_factor)
