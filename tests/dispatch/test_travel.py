"""Travel times: the great-circle model, the cache, and an OSRM table server (a fake one on
loopback that speaks OSRM's table API)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from dispatch.travel import CachedTravel, GreatCircle, Osrm, TravelError, travel_for

ALMATY = (43.2380, 76.8890)
ONE_KM_NORTH = (43.2380 + 1 / 111.195, 76.8890)


def test_one_kilometre_at_thirty_kmh_with_no_detour_takes_two_minutes():
    seconds, metres = GreatCircle(speed_kmh=30, detour=1.0).matrix([ALMATY, ONE_KM_NORTH])
    assert metres[0, 1] == pytest.approx(1000, abs=2)
    assert seconds[0, 1] == pytest.approx(120, abs=1)
    assert seconds[0, 0] == seconds[1, 1] == 0


def test_the_detour_factor_stretches_times():
    plain = GreatCircle(speed_kmh=30, detour=1.0).seconds(ALMATY, ONE_KM_NORTH)
    city = GreatCircle(speed_kmh=30, detour=1.5).seconds(ALMATY, ONE_KM_NORTH)
    assert city == pytest.approx(plain * 1.5, abs=1)


def test_the_single_pair_shortcut_agrees_with_the_matrix():
    model = GreatCircle()
    assert model.seconds(ALMATY, ONE_KM_NORTH) == model.matrix([ALMATY, ONE_KM_NORTH])[0][0, 1]


class FakeOsrm(BaseHTTPRequestHandler):
    calls = 0

    def do_GET(self):
        FakeOsrm.calls += 1
        coordinates = self.path.split("/")[4].split("?")[0].split(";")
        n = len(coordinates)
        body = {
            "code": "Ok",
            "durations": [[0 if i == j else 600 for j in range(n)] for i in range(n)],
            "distances": [[0 if i == j else 5000 for j in range(n)] for i in range(n)],
        }
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def osrm_url():
    server = HTTPServer(("127.0.0.1", 0), FakeOsrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_road_times_come_from_osrm_when_configured(osrm_url, settings):
    settings.TRAVEL_BACKEND, settings.OSRM_URL = "osrm", osrm_url
    travel = travel_for(speed_kmh=30, detour=1.3)
    seconds, metres = travel.matrix([ALMATY, ONE_KM_NORTH, (43.25, 76.9)])
    assert seconds[0, 1] == 600 and metres[2, 0] == 5000


def test_matrices_are_cached(osrm_url):
    travel = CachedTravel(Osrm(osrm_url), fallback=GreatCircle())
    FakeOsrm.calls = 0
    travel.matrix([ALMATY, ONE_KM_NORTH])
    travel.matrix([ALMATY, ONE_KM_NORTH])
    assert FakeOsrm.calls == 1


def test_an_unreachable_osrm_falls_back_to_the_default_model():
    dead = Osrm("http://127.0.0.1:9", timeout=0.5)
    with pytest.raises(TravelError):
        dead.matrix([ALMATY, ONE_KM_NORTH])
    travel = CachedTravel(dead, fallback=GreatCircle(speed_kmh=30, detour=1.0))
    assert travel.matrix([ALMATY, ONE_KM_NORTH])[0][0, 1] == pytest.approx(120, abs=1)


def test_osrm_needs_its_url():
    import os
    import subprocess
    import sys

    env = {**os.environ, "TRAVEL_BACKEND": "osrm", "OSRM_URL": ""}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and "OSRM_URL is required" in result.stderr
