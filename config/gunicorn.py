"""gunicorn's settings for the web service (`gunicorn -c python:config.gunicorn`): the metrics
of its workers start from zero with the master, and a worker that exits takes its live gauges
with it (prometheus_client's multiprocess mode)."""

import os

from prometheus_client import multiprocess

from core.observability import metrics_dir_reset


def on_starting(server) -> None:
    metrics_dir_reset()


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
