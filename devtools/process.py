"""Start one of our servers as a child process and learn its URL: used by `up`, tests and bench."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from devtools.children import die_with_parent
from devtools.serve import READY_PREFIX

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class ServerProcess:
    """A running server child: its base URL, the process, and the lines it printed."""

    url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None  # what appends to `output`

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the child; its output is then whole (what it printed last is read, not lost
        in the pipe), so a check of what it never printed reads everything."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.reader is not None:
            self.reader.join(timeout)


def start_server(
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> ServerProcess:
    """Run `python <args>` (which must print `listening on URL`) and wait until it is ready."""
    child_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=die_with_parent,
    )
    output: list[str] = []
    ready = threading.Event()
    url: list[str] = []

    def pump() -> None:
        # Keep draining after start-up so a chatty child never blocks on a full pipe.
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line.rstrip("\n"))
            if not ready.is_set() and line.startswith(READY_PREFIX):
                url.append(line[len(READY_PREFIX) :].strip())
                ready.set()
        ready.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    if not ready.wait(timeout) or not url:
        process.kill()
        raise RuntimeError(f"{' '.join(args)} did not start:\n" + "\n".join(output[-40:]))
    return ServerProcess(url=url[0], process=process, output=output, reader=reader)
