"""Scale out: what sharing state in Redis (ROUTER_REDIS_URL) costs one request, and what it buys
several instances of the app.

1. Hot path, in process: the state steps of one request (admission, a success's verdict, and a
   session look-up) with the instance's own state and with Redis, timed directly: what Redis
   adds, without HTTP's noise. Then end to end: one router without Redis, one with it, and
   the same with a session header (its tier is looked up: the second round trip), in
   interleaved wrk rounds at concurrency 1 and 32 against the fast fake upstream;
   redis-server pinned beside the load generator.
2. Several instances: N routers (default 4) on the emulator, every request sent to the next one
   in turn (round-robin), once each instance with its own state and once sharing one Redis:
   a. token budget: `--requests` chat requests pinned to the small tier, whose deployment has a
      small TPM quota in the emulator (and the same budget in the router's tier table); counted:
      the 429s the emulator answered, who answered, client latency;
   b. repeated asks: `--asks` distinct unclear asks, each sent `--repeats` times (`/api/route`,
      preset `classifier`: every new ask is classified, by a tier of its own); counted:
      classifier calls.

Run: .venv/bin/python -m bench.scale_out [--instances 4] [--rounds 3] [--seconds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import redis as redis_client
import redis.asyncio as aioredis

from bench.common import procs, servers, wrk
from bench.common.layout import Layout, layout
from bench.common.stats import median
from bench.common.table import markdown
from devtools import redis
from shared.settings import LARGE_DEFAULT, SMALL_DEFAULT

CHAT = "/api/v1/chat/completions"
HELLO = orjson.dumps({"model": "auto", "messages": [{"role": "user", "content": "hi"}]})
# The hot path's tiers: a budget on each (the budget script's whole path), never reached.
HOT_TIERS = json.dumps(
    [
        {"name": "small", **SMALL_DEFAULT, "tpm": 1_000_000_000},
        {"name": "large", **LARGE_DEFAULT, "tpm": 1_000_000_000},
    ]
)
QUOTA_TPM = 9_000  # the small deployment's quota: ~28 requests of ~310 tokens a minute
BUDGET_TIERS = json.dumps(
    [
        {"name": "small", "deployment": "Phi-4-mini", "tpm": QUOTA_TPM, "fallbacks": ["phi4"]},
        {"name": "phi4", "deployment": "Phi-4", "fallbacks": ["large"]},
        {"name": "large", "deployment": "gpt-5", "capabilities": ["reasoning"]},
    ]
)
# Asks the scorer cannot settle alone are what the classifier preset classifies: all of them.
ASK = "Question {n} about my account: what should I do about the charge on my last invoice?"


# ---- 1. hot path -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Variant:
    router: str  # which router process
    headers: dict[str, str]


def hot_path(args: argparse.Namespace, place: Layout, logs: Path, redis_url: str) -> str:
    port = procs.free_port()
    argv = [sys.executable, "-m", "bench.common.fake_upstream", "--port", str(port)]
    upstream = procs.start("fake-upstream", argv, port, cpu=place.load, log_dir=logs)
    routers: dict[str, procs.Proc] = {}
    try:
        for label, extra in (("off", {}), ("on", {"ROUTER_REDIS_URL": redis_url})):
            rport = procs.free_port()
            env = {
                "FOUNDRY_ENDPOINT": upstream.url,
                "FOUNDRY_API_KEY": "fake",
                "ROUTER_TIERS": HOT_TIERS,
                **extra,
            }
            argv = [sys.executable, "-m", "devtools.localhost", "--port", str(rport)]
            routers[label] = procs.start(
                f"router-{label}", argv, rport, env=env, cpu=place.gateway, log_dir=logs
            )
        wait_shared(routers["on"].url)
        session = {"x-router-session": "bench-session"}
        variants = {
            "Redis off": Variant("off", {}),
            "Redis on": Variant("on", {}),
            "Redis off, session": Variant("off", session),
            "Redis on, session": Variant("on", session),
        }
        samples = rounds(routers, variants, args, place)
    finally:
        for router in routers.values():
            router.stop()
        upstream.stop()
    rows = []
    for c in args.concurrency:
        for label in variants:
            base = "Redis off, session" if "session" in label else "Redis off"
            p50 = median([r.p50_ms for r in samples[label, c]])
            p99 = median([r.p99_ms for r in samples[label, c]])
            base_p50 = median([r.p50_ms for r in samples[base, c]])
            base_p99 = median([r.p99_ms for r in samples[base, c]])
            rps = median([r.rps for r in samples[label, c]])
            errors = sum(r.errors for r in samples[label, c])
            added = "" if label == base else f"{p50 - base_p50:+.2f} / {p99 - base_p99:+.2f}"
            rows.append([label, c, f"{p50:.2f}", f"{p99:.2f}", added, f"{rps:,.0f}", errors])
    head = ["variant", "c", "p50 ms", "p99 ms", "added p50 / p99 ms", "req/s", "errors"]
    return (
        f"### Hot path ({place.describe()}; median of {args.rounds} interleaved rounds of "
        f"{args.seconds:g} s; fake upstream, no delay)\n\n" + markdown(head, rows)
    )


def rounds(
    routers: dict[str, procs.Proc], variants: dict[str, Variant], args: Any, place: Layout
) -> dict[tuple[str, int], list[wrk.LoadResult]]:
    """wrk over every variant at every concurrency in turn, round after round (drift falls on
    all alike)."""
    samples: dict[tuple[str, int], list[wrk.LoadResult]] = {}
    for variant in variants.values():  # warm-up: connections, the scripts loaded in Redis
        url = routers[variant.router].url + CHAT
        wrk.run(url, HELLO, connections=32, seconds=1, headers=variant.headers, cpu=place.load)
    for _ in range(args.rounds):
        for c in args.concurrency:
            for label, variant in variants.items():
                url = routers[variant.router].url + CHAT
                result = wrk.run(
                    url,
                    HELLO,
                    connections=c,
                    seconds=args.seconds,
                    headers=variant.headers,
                    cpu=place.load,
                )
                samples.setdefault((label, c), []).append(result)
    return samples


# ---- 1b. the same, in process ------------------------------------------------------------------


async def state_steps(
    redis_url: str, session: bool, shared: bool, calls: int, c: int
) -> list[float]:
    """The router's state steps of one request, timed in process (ms each): a session look-up
    (when `session`), admission (budget script) and a success's verdict; `calls` of them, `c` at
    once. What Redis adds to a request without the noise of HTTP on a shared machine."""
    from shared.routing.cache import TtlCache
    from shared.settings import BreakerPolicy
    from shared.state.health import SharedHealth
    from shared.state.link import RedisLink
    from shared.state.memory import Memory, SharedMemory
    from shared.upstream.health import Health, HealthBook, Verdict

    book = HealthBook({"small": 1_000_000_000}, BreakerPolicy())
    local: TtlCache[str] = TtlCache(1800, 100_000)
    health: Health = book
    sessions: Memory = local
    link: RedisLink | None = None
    if shared:
        link = RedisLink(aioredis.from_url(redis_url), timeout_s=1.0)
        for _ in range(500):  # its first connection is made in the background
            if link.up:
                break
            await asyncio.sleep(0.01)
        health = SharedHealth(link, book, {"small": 20.0})
        sessions = SharedMemory(link, "session", local, final=lambda t: t == "large")
    timings: list[float] = []

    async def one(index: int) -> None:
        started = time.perf_counter()
        if session:
            await sessions.recall(f"bench-{index % 100}")
        await health.admit("small", 300)
        await health.settle("small", Verdict("succeeded", remaining_tokens=None, needed=300))
        timings.append((time.perf_counter() - started) * 1000)

    async def worker(offset: int) -> None:
        for index in range(offset, calls, c):
            await one(index)

    cpu = time.process_time()
    await asyncio.gather(*(worker(k) for k in range(c)))
    timings.append((time.process_time() - cpu) * 1000 / calls)  # last: CPU ms per request
    if link is not None:
        await link.aclose()
    return timings


def in_process(args: argparse.Namespace, redis_url: str) -> str:
    rows = []
    for c in args.concurrency:
        for session in (False, True):
            runs: dict[bool, list[list[float]]] = {False: [], True: []}
            for _ in range(args.rounds):  # interleaved: drift falls on both alike
                for shared in (False, True):
                    runs[shared].append(
                        asyncio.run(state_steps(redis_url, session, shared, args.calls, c))
                    )
            cpu = {s: median([r.pop() for r in runs[s]]) for s in runs}
            p50 = {s: median([pct(r, 0.5) for r in runs[s]]) for s in runs}
            p99 = {s: median([pct(r, 0.99) for r in runs[s]]) for s in runs}
            rows.append(
                [
                    "session + admission + verdict" if session else "admission + verdict",
                    c,
                    f"{p50[False]:.3f} / {p99[False]:.3f}",
                    f"{p50[True]:.3f} / {p99[True]:.3f}",
                    f"{p50[True] - p50[False]:+.3f} / {p99[True] - p99[False]:+.3f}",
                    f"{cpu[True] - cpu[False]:+.3f}",
                ]
            )
    head = [
        "state steps of one request",
        "c",
        "own p50 / p99 ms",
        "Redis p50 / p99 ms",
        "added",
        "added CPU ms/req",
    ]
    return (
        f"### Per request, in process (median of {args.rounds} interleaved runs of {args.calls} "
        "requests; redis-server on loopback)\n\n" + markdown(head, rows)
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


# ---- 2. several instances ----------------------------------------------------------------------


@dataclass
class Side:
    """One side of the comparison: what the emulator and the client saw."""

    throttled: int = 0  # 429s the emulator answered (any deployment)
    answered_by: Counter[str] | None = None
    failed: int = 0  # non-2xx answers the client got
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    classifier_calls: int = 0
    fallbacks: int = 0  # times an instance went on per-instance state (Redis too slow)


def instances(args: argparse.Namespace, place: Layout, logs: Path, redis_url: str) -> str:
    emulator = servers.start_emulator(logs, place.load, speed=0, quotas=True)
    sides: dict[str, Side] = {}
    try:
        for label, url in (("each instance its own state", ""), ("one Redis", redis_url)):
            with routers_on(emulator, args.instances, url, logs, place) as started:
                sides[label] = measure(emulator, [r.url for r in started], args)
                sides[label].fallbacks = sum(
                    r.log.read_text(errors="replace").count("shared_state state=unavailable")
                    for r in started
                )
    finally:
        emulator.stop()
    rows = []
    for label, side in sides.items():
        answered = side.answered_by or Counter()
        rows.append(
            [
                label,
                side.throttled,
                ", ".join(f"{name} {n}" for name, n in sorted(answered.items())),
                side.failed,
                f"{side.p50_ms:.1f}",
                f"{side.p99_ms:.1f}",
                side.classifier_calls,
                side.fallbacks,
            ]
        )
    head = [
        f"{args.instances} instances",
        "429s from Foundry",
        "answered by",
        "failed",
        "p50 ms",
        "p99 ms",
        f"classifier calls ({args.asks} asks x {args.repeats})",
        "fell back to per-instance",
    ]
    return (
        f"### {args.instances} instances, round-robin ({args.requests} requests to a "
        f"{QUOTA_TPM:,} TPM deployment at concurrency {args.clients}; emulator, speed 0)\n\n"
        + markdown(head, rows)
    )


@contextmanager
def routers_on(
    emulator: procs.Proc, count: int, redis_url: str, logs: Path, place: Layout
) -> Iterator[list[procs.Proc]]:
    started: list[procs.Proc] = []
    env = {
        "FOUNDRY_ENDPOINT": emulator.url,
        "FOUNDRY_API_KEY": servers.EMULATOR_KEY,
        "ROUTER_TIERS": BUDGET_TIERS,
        "ROUTER_PRESET": "classifier",
        # Its own deployment, so the budget's spent quota never turns a classification away.
        "ROUTER_CLASSIFIER_TIER": "phi4",
        "ROUTER_CLASSIFIER_TIMEOUT_MS": "5000",  # a busy 2-core machine: never the safe default
        "ROUTER_MAX_RETRY_WAIT_S": "2",
    }
    if redis_url:
        env["ROUTER_REDIS_URL"] = redis_url
        # A shared 2-core machine stalls a process past 100 ms at times: a wider bound keeps
        # those stalls from turning the comparison into per-instance state (counted below).
        env["ROUTER_REDIS_TIMEOUT_MS"] = "1000"
        with redis_client.Redis.from_url(redis_url) as client:
            client.flushall()  # nothing left from an earlier part
    try:
        for index in range(count):
            port = procs.free_port()
            argv = [sys.executable, "-m", "devtools.localhost", "--port", str(port)]
            side = "redis" if redis_url else "own"
            name = f"router-{side}-{index}"
            started.append(procs.start(name, argv, port, env=env, cpu=place.gateway, log_dir=logs))
        if redis_url:
            for router in started:
                wait_shared(router.url)
        yield started
    finally:
        for router in started:
            router.stop()


def measure(emulator: procs.Proc, urls: list[str], args: argparse.Namespace) -> Side:
    servers.control(emulator, "/control/reset", {})
    quota = {"Phi-4-mini": {"tpm": QUOTA_TPM, "rpm": None}}
    lifted = {d: {"tpm": None, "rpm": None} for d in ("Phi-4", "gpt-5")}
    servers.control(emulator, "/control/settings", {"deployments": {**quota, **lifted}})
    side = Side()
    body = {"model": "small", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 300}
    work = [(index, CHAT, body) for index in range(args.requests)]  # the next one in turn
    latencies, statuses, models = asyncio.run(round_robin(urls, work, args.clients))
    side.answered_by = Counter(models)
    side.failed = sum(1 for s in statuses if s >= 400)
    ordered = sorted(latencies)
    side.p50_ms = ordered[len(ordered) // 2]
    side.p99_ms = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    side.throttled = throttled(emulator)
    # Repeated asks: a fresh count, a deployment free of quota so only the cache decides.
    servers.control(emulator, "/control/reset", {})
    servers.control(emulator, "/control/settings", {"deployments": lifted})
    before = calls(emulator, "Phi-4")
    # The r-th repeat of ask n goes to instance n + r: each ask comes to every instance in turn.
    asks = [
        (
            n + repeat,
            "/api/route",
            {"model": "auto", "messages": [{"role": "user", "content": ASK.format(n=n)}]},
        )
        for repeat in range(args.repeats)
        for n in range(args.asks)
    ]
    asyncio.run(round_robin(urls, asks, 1))  # one at a time: repeats never race their first
    side.classifier_calls = calls(emulator, "Phi-4") - before
    return side


Work = Sequence[tuple[int, str, dict[str, Any]]]
"""(which instance, path, body) per request, in order."""


async def round_robin(
    urls: Sequence[str], work: Work, clients: int
) -> tuple[list[float], list[int], list[str]]:
    """Send `work` in order, each request to the instance it names, from `clients` at once."""
    latencies: list[float] = []
    statuses: list[int] = []
    models: list[str] = []
    queue = iter(enumerate(work))

    async def client(http: httpx.AsyncClient) -> None:
        for _, (instance, path, body) in queue:
            started = time.perf_counter()
            reply = await http.post(urls[instance % len(urls)] + path, json=body)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses.append(reply.status_code)
            models.append(reply.headers.get("x-router-deployment", str(reply.status_code)))

    async with httpx.AsyncClient(timeout=120) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return latencies, statuses, models


def throttled(emulator: procs.Proc) -> int:
    stats = httpx.get(emulator.url + "/control/stats", timeout=10).json()
    return sum(int(d["statuses"].get("429", 0)) for d in stats["deployments"].values())


def calls(emulator: procs.Proc, deployment: str) -> int:
    stats = httpx.get(emulator.url + "/control/stats", timeout=10).json()
    return int(stats["deployments"].get(deployment, {}).get("requests", 0))


def wait_shared(url: str) -> None:
    for _ in range(200):
        if httpx.get(url + "/api/health/details", timeout=10).json()["shared_state"] == "redis":
            return
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not connect to Redis")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument(
        "--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 32]
    )
    parser.add_argument("--instances", type=int, default=4)
    parser.add_argument("--requests", type=int, default=120)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--asks", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--calls", type=int, default=5000, help="in-process requests per run")
    parser.add_argument("--skip-hot-path", action="store_true")
    args = parser.parse_args()
    place = layout(True)
    server = redis.start()
    if place.load:
        os.sched_setaffinity(server.process.pid, place.load)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            logs = Path(tmp)
            if not args.skip_hot_path:
                if place.gateway:
                    os.sched_setaffinity(0, place.gateway)  # this process stands for the router
                print(in_process(args, server.url) + "\n", flush=True)
                os.sched_setaffinity(0, place.gateway + place.load)
                print(hot_path(args, place, logs, server.url) + "\n", flush=True)
            print(instances(args, place, logs, server.url), flush=True)
    finally:
        server.close()


if __name__ == "__main__":
    main()
