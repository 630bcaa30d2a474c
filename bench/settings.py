"""Settings for the benchmarks: the product's, plus the bare baseline endpoint (bench/urls.py)."""

from config.env import env_str
from config.settings import *  # noqa: F403
from config.settings import CHANNEL_LAYERS, REDIS_URL

ROOT_URLCONF = "bench.urls"

# Work-around for a product bug, so the dispatcher socket survives a quiet moment: channels-redis
# 4.3 waits for messages with BZPOPMIN for 5 s, and redis-py 8 gives every socket a 5 s read
# timeout by default, so an idle consumer's wait times out on the client first, raises
# redis.exceptions.TimeoutError and the WebSocket is closed after 5 s without events. A read
# timeout above the wait keeps it open; it changes nothing on a busy socket.
CHANNEL_LAYERS = {
    "default": {
        **CHANNEL_LAYERS["default"],
        "CONFIG": {
            **CHANNEL_LAYERS["default"]["CONFIG"],
            "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
        },
    }
}

# The benchmarks serve plain HTTP on loopback, so a browser keeps the cookies the server sets (a
# Secure cookie is never sent back over http://), and collect the static files (the production
# manifest storage needs them) into a folder of their own instead of the checkout's.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
if env_str("BENCH_STATIC_ROOT", ""):
    STATIC_ROOT = env_str("BENCH_STATIC_ROOT", "")
