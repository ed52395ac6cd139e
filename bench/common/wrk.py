"""Drive HTTP load with wrk (C, cheap per request) and read its HdrHistogram percentiles."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("post.lua")


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int  # non-2xx answers plus socket errors and timeouts
    p50_ms: float
    p90_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def available() -> bool:
    return shutil.which("wrk") is not None


def run(
    url: str,
    body: bytes,
    *,
    connections: int,
    seconds: float,
    headers: Mapping[str, str] | None = None,
    cpu: Sequence[int] | None = None,
    timeout_s: float = 10.0,
) -> LoadResult:
    """POST `body` to `url` from `connections` keep-alive connections for `seconds`."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        env = {
            **os.environ,
            "WRK_BODY": body.decode(),
            "WRK_HEADERS": "\n".join(f"{k}: {v}" for k, v in (headers or {}).items()),
            "WRK_OUT": out.name,
        }
        argv = [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={timeout_s:g}s",
            "-s",
            str(SCRIPT),
            url,
        ]
        if cpu:
            argv = ["taskset", "-c", ",".join(map(str, cpu)), *argv]
        subprocess.run(argv, env=env, check=True, capture_output=True, timeout=seconds + 60)
        data = json.loads(Path(out.name).read_text())
    return LoadResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=data["non2xx"] + data["connect"] + data["read"] + data["write"] + data["timeout"],
        p50_ms=data["p50"] / 1000,
        p90_ms=data["p90"] / 1000,
        p99_ms=data["p99"] / 1000,
    )
