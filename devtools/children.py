"""Server children of a run (Azurite, redis-server, the emulator and routers): a free port to
listen on, a life no longer than the run's, a polite stop. Standard library only:
`python3 -m devtools.azurite --install` and `devtools.redis` run before .venv exists."""

from __future__ import annotations

import ctypes
import signal
import socket
import subprocess
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """In a child before exec: Linux sends it SIGTERM when the process that started it dies,
    however that dies (a test run killed or out of memory, a `devtools up` killed after its stop
    timed out), so no server outlives the run that needed it."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen[bytes], timeout_s: float = 5.0) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `timeout_s`."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout_s)
