"""Settings for the benchmarks: the product's, plus the bare baseline endpoint (bench/urls.py)."""

from dispatch.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
