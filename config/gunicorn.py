"""gunicorn's settings for the web service (`gunicorn -c python:config.gunicorn`): the metrics
of its workers start from zero with the master, a worker that exits takes its live gauges
with it (prometheus_client's multiprocess mode), and the access log names no link's key."""

import os

from gunicorn.glogging import Logger
from prometheus_client import multiprocess

from core.observability import metrics_dir_reset, redact_paths


class RedactingLogger(Logger):
    """The access log without the keys of survey, kiosk and tracking links."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_paths(atoms[key])
        return atoms


logger_class = RedactingLogger


def on_starting(server) -> None:
    metrics_dir_reset()


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
