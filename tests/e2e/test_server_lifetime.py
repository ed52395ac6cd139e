"""A server started for a run dies with that run, however the run ends: a test run killed (or
out of memory) must not leave emulators and routers holding memory and ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devtools.process import REPO_ROOT

# A run that starts the emulator, says its pid, then waits to be killed.
PARENT = """
import sys, time
from devtools.process import start_server
server = start_server(["-m", "devtools.emulator", "--port", "0", "--speed", "0"])
print(server.process.pid, flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for a reaper that may never come."""
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(line for line in status.read_text().splitlines() if line.startswith("State:"))
    except (FileNotFoundError, ProcessLookupError):
        return False
    return "Z" not in state.split()[1]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_server_dies_with_the_run_that_started_it_when_that_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert alive(child)
    os.kill(parent.pid, signal.SIGKILL)  # no clean-up code of the parent runs
    parent.wait()
    deadline = time.monotonic() + 30
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    survived = alive(child)
    if survived:
        os.kill(child, signal.SIGKILL)
    assert not survived
