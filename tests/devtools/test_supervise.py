"""`make up`'s supervisor starts a process that died again instead of stopping everything."""

import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

DIES_ONCE = (
    "import pathlib, sys, time; runs = pathlib.Path(sys.argv[1]); "
    "runs.write_text(runs.read_text() + 'x' if runs.exists() else 'x'); "
    "sys.exit(1) if len(runs.read_text()) == 1 else time.sleep(60)"
)


def supervisor(commands: dict) -> subprocess.Popen:
    script = (
        "import os, sys; from devtools.devstack import supervise; "
        f"sys.exit(supervise({commands!r}, dict(os.environ)))"
    )
    return subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


def test_a_process_that_dies_is_started_again_and_the_stack_keeps_running(tmp_path):
    runs = tmp_path / "runs"
    stack = supervisor({"worker": [sys.executable, "-c", DIES_ONCE, str(runs)]})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not runs.exists() or runs.read_text() != "xx"):
        time.sleep(0.2)

    assert stack.poll() is None  # still running
    assert runs.read_text() == "xx"  # died once, started again
    stack.send_signal(signal.SIGINT)
    output, _ = stack.communicate(timeout=30)
    assert stack.returncode == 0
    assert "worker exited with 1; starting it again" in output
