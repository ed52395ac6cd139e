"""How long a server child lives. Standard library only: `python3 -m devtools.azurite --install`
and `devtools.redis` run it before .venv exists."""

from __future__ import annotations

import ctypes
import signal
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """In a child before exec: Linux sends it SIGTERM when the process that started it dies,
    however that dies (a test run killed or out of memory, a `devtools up` killed after its stop
    timed out), so no server outlives the run that needed it."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
