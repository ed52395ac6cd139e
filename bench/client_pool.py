"""Evidence for the upstream client's cost: a bare httpx.AsyncClient (the router's, same limits)
POSTing to the fast fake upstream at concurrency 1, 32 and 128, CPU ms per request and
pooled connections; and the same for httpx2 (pydantic's API-compatible fork, whose pool
bookkeeping is linear) when it is importable. No router involved.

Run: .venv/bin/python -m bench.client_pool [--seconds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import orjson
import uvloop

from bench.common import procs
from bench.common.layout import layout
from bench.common.table import markdown

BODY = orjson.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})


async def load(lib: ModuleType, url: str, concurrency: int, seconds: float) -> list[object]:
    limits = lib.Limits(max_connections=1024, max_keepalive_connections=256)  # as the router
    async with lib.AsyncClient(limits=limits) as client:
        await asyncio.gather(*(client.post(url, content=BODY) for _ in range(concurrency)))
        done = 0
        stop = time.perf_counter() + seconds

        async def user() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                (await client.post(url, content=BODY, headers={"api-key": "k"})).raise_for_status()
                done += 1

        cpu, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(user() for _ in range(concurrency)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - started
        pooled = len(client._transport._pool.connections)  # type: ignore[attr-defined]
    return [
        lib.__name__,
        lib.__version__,
        concurrency,
        f"{done / wall:,.0f}",
        f"{cpu * 1000 / done:.2f}",
        pooled,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3)
    args = parser.parse_args()
    place = layout(True)
    libs = []
    for name in ("httpx", "httpx2"):
        try:
            libs.append(importlib.import_module(name))
        except ImportError:
            print(f"({name} is not installed: skipped)")
    with tempfile.TemporaryDirectory(prefix="bench-pool-") as tmp:
        port = procs.free_port()
        argv = [sys.executable, "-m", "bench.common.fake_upstream", "--port", str(port)]
        upstream = procs.start("fake-upstream", argv, port, cpu=place.load, log_dir=Path(tmp))
        if place.gateway:
            import os

            os.sched_setaffinity(0, place.gateway)  # the client where the router would run
        try:
            rows = [
                uvloop.run(load(lib, upstream.url + "/v1/chat/completions", c, args.seconds))
                for c in (1, 32, 128)
                for lib in libs
            ]
        finally:
            upstream.stop()
    print(f"# upstream client alone ({place.describe()}, {args.seconds:g} s each)\n")
    print(markdown(["client", "version", "c", "req/s", "client CPU ms/req", "pooled conns"], rows))


if __name__ == "__main__":
    main()
