"""Load with throttling: the router under steady load while 10% of upstream calls
answer 429, and proof that every request ends in an answer or a clean error.

64 connections send the same routed request back to back for 60 s; the emulator answers every
tenth upstream call of the small model with 429 + Retry-After (a `flapping` fault with pattern
fail,ok x9). Every request's end is counted: answer, clean error (status + OpenAI error
envelope), unclean error, lost (connection dropped without an answer) or hung (no answer within
--hang-s). The script fails (exit 1) when any request was lost, hung or answered uncleanly.
The router's RSS is sampled each second: memory should stay flat.

Run: .venv/bin/python -m bench.load [--seconds 60] [--concurrency 64] [--speed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import uvloop

from bench.common import procs, servers
from bench.common.httpclient import Connection, Outcome
from bench.common.layout import layout
from bench.common.stats import median
from bench.common.table import markdown

BODY = orjson.dumps({"model": "auto", "messages": [{"role": "user", "content": "hi"}]})
ROUTER_CHAT = "/api/v1/chat/completions"


async def drive(url: str, connections: int, seconds: float, hang_s: float) -> list[Outcome]:
    outcomes: list[Outcome] = []
    sent = 0
    stop = time.monotonic() + seconds

    async def user() -> None:
        nonlocal sent
        conn = Connection(url)
        try:
            while time.monotonic() < stop:
                sent += 1
                outcomes.append(await conn.post(BODY, hang_s))
        finally:
            await conn.close()

    await asyncio.gather(*(user() for _ in range(connections)))
    assert sent == len(outcomes), "a request left no outcome"
    return outcomes


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if ordered else 0.0


def report(outcomes: list[Outcome], seconds: float, upstream: dict[str, object]) -> str:
    kinds = Counter(o.kind for o in outcomes)
    statuses = Counter(str(o.status) for o in outcomes if o.status is not None)
    total = len(outcomes)
    rows = [
        [k, kinds.get(k, 0), f"{100 * kinds.get(k, 0) / max(1, total):.1f}%"]
        for k in ("answer", "error", "unclean", "lost", "hung")
    ]
    ends = markdown(["end", "requests", "share"], rows)
    lat = []
    for label, subset in (
        ("all", outcomes),
        ("answers", [o for o in outcomes if o.kind == "answer"]),
        ("errors", [o for o in outcomes if o.kind == "error"]),
    ):
        ms = [o.seconds * 1000 for o in subset]
        if ms:
            lat.append(
                [
                    label,
                    len(ms),
                    *(f"{percentile(ms, q):.1f}" for q in (50, 90, 99, 99.9)),
                    f"{max(ms):.1f}",
                ]
            )
    latency = markdown(["requests", "n", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"], lat)
    small = upstream.get("Phi-4-mini", {})
    assert isinstance(small, dict)
    up_statuses = small.get("statuses", {})
    up_total = sum(up_statuses.values()) if isinstance(up_statuses, dict) else 0
    up_429 = up_statuses.get("429", 0) if isinstance(up_statuses, dict) else 0
    lines = [
        f"{total} requests in {seconds:.0f} s: **{total / seconds:,.0f} req/s** "
        f"({kinds['answer'] / seconds:,.0f} answers/s); statuses to callers: "
        + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())),
        f"upstream (emulator, Phi-4-mini): {up_total} calls, {up_429} answered 429 "
        f"({100 * up_429 / max(1, up_total):.1f}%)",
        "",
        ends,
        "",
        latency,
    ]
    return "\n".join(lines)


@contextlib.contextmanager
def rss_sampled(router: procs.Proc, every_s: float = 1.0) -> Iterator[list[float]]:
    """The router's RSS (MB) once a second while the block runs: is memory flat under load?"""
    samples: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(every_s):
            samples.append(router.rss_mb())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        done.set()
        thread.join()


def memory_line(rss: list[float]) -> str:
    if len(rss) < 20:
        return "router RSS: too few samples"
    return (
        f"router RSS MB (sampled each second): first 10 s median {median(rss[:10]):.0f}, "
        f"last 10 s median {median(rss[-10:]):.0f}, peak {max(rss):.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--speed", type=float, default=1.0, help="emulator latency factor")
    parser.add_argument("--retry-after-s", type=float, default=1.0, help="on the emulator's 429s")
    parser.add_argument("--hang-s", type=float, default=30.0, help="no answer by then: hung")
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args()
    place = layout(not args.no_pin)
    print(
        f"# load: {args.concurrency} connections for {args.seconds:g} s, emulator speed "
        f"{args.speed:g}, 10% of upstream calls answered 429 (Retry-After "
        f"{args.retry_after_s:g} s); {place.describe()}\n",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        emulator = servers.start_emulator(Path(tmp), place.load, speed=args.speed)
        router = servers.start_router(emulator, Path(tmp), place.gateway)
        try:
            servers.control(
                emulator,
                "/control/faults",
                {
                    "deployment": "Phi-4-mini",
                    "kind": "flapping",
                    "times": None,
                    "status": 429,
                    "pattern": ",".join(["fail"] + ["ok"] * 9),
                    "retry_after_s": args.retry_after_s,
                },
            )
            started = time.monotonic()
            with rss_sampled(router) as rss:
                outcomes = uvloop.run(
                    drive(router.url + ROUTER_CHAT, args.concurrency, args.seconds, args.hang_s)
                )
            elapsed = time.monotonic() - started
            upstream = httpx.get(emulator.url + "/control/stats", timeout=10).json()
            upstream = upstream.get("deployments", upstream)
        finally:
            router.stop()
            emulator.stop()
    print(report(outcomes, elapsed, upstream))
    print(memory_line(rss))
    bad = sum(o.kind in ("lost", "hung", "unclean") for o in outcomes)
    if bad:
        print(f"\nFAIL: {bad} requests were lost, hung or answered without an OpenAI error")
        sys.exit(1)
    print(
        f"\nPASS: all {len(outcomes)} requests ended in an answer or a clean error "
        "(none lost, none hung)"
    )


if __name__ == "__main__":
    main()
