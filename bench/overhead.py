"""The router's added latency and throughput against the emulator called directly.

1. Overhead: wrk POSTs the same one-line chat request ("hi": the scorer decides, no classifier
   call) to the emulator directly and through the router, at concurrency 1 and 32, in
   interleaved rounds; with the emulator answering instantly (speed 0) and after a fixed 50 ms.
2. An agent scenario: an agent makes ten sequential calls with the emulator at realistic
   latency (speed 1), once with every call pinned to the large tier, once routed (`auto`).

Run: .venv/bin/python -m bench.overhead [--seconds 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import orjson

from bench.common import servers, wrk
from bench.common.layout import Layout, layout
from bench.common.stats import median
from bench.common.table import markdown, ratio

CHAT = "/openai/v1/chat/completions"
ROUTER_CHAT = "/api/v1/chat/completions"
HELLO = [{"role": "user", "content": "hi"}]
# A realistic mix of agent steps: mostly simple (extraction, status, formatting), a few hard.
AGENT_SYSTEM = "You are an operations agent. Answer briefly."
AGENT_STEPS = (
    "Extract the invoice number from: 'Invoice INV-2024-0042, due 2024-07-01'.",
    "What is the status of order 1182? The tracker says: shipped.",
    "thanks",
    "Convert 'March 3rd 2025' to ISO 8601.",
    "Classify this ticket as bug or feature: 'The export button does nothing.'",
    "Plan the steps to migrate the billing service to the new database without downtime.",
    'Is this JSON valid? {"a": 1}',
    "Summarize in one line: the deploy finished, 0 errors, 2 warnings.",
    "Write the code for a Python function that parses '2025-03-03 ERROR disk full' log lines.",
    "Reply OK if this says the tests passed: '42 passed, 0 failed'.",
)


def overhead(args: argparse.Namespace, place: Layout, logs: Path) -> str:
    emulator = servers.start_emulator(logs, place.load, speed=0)
    router = servers.start_router(emulator, logs, place.gateway)
    try:
        direct = (
            emulator,
            emulator.url + CHAT,
            orjson.dumps({"model": "Phi-4-mini", "messages": HELLO}),
        )
        routed = (
            router,
            router.url + ROUTER_CHAT,
            orjson.dumps({"model": "auto", "messages": HELLO}),
        )
        reply = httpx.post(routed[1], content=routed[2], timeout=10)
        assert reply.status_code == 200, reply.text
        assert reply.headers["x-router-decided-by"] == "scorer", reply.headers
        headers = {"api-key": servers.EMULATOR_KEY}
        sections = []
        for label, delay in (("speed 0 (instant)", None), ("fixed 50 ms", 50.0)):
            if delay is not None:
                servers.control(
                    emulator,
                    "/control/settings",
                    {"speed": 1.0, "deployments": {"Phi-4-mini": {"latency_ms": [delay, delay]}}},
                )
            for _, url, body in (direct, routed):  # warm up
                wrk.run(url, body, connections=32, seconds=1, headers=headers, cpu=place.load)
            samples: dict[tuple[str, int], list[tuple[wrk.LoadResult, float]]] = defaultdict(list)
            for _ in range(args.rounds):
                for c in (1, 32):
                    for name, (proc, url, body) in (("direct", direct), ("router", routed)):
                        before = proc.cpu_s()
                        result = wrk.run(
                            url,
                            body,
                            connections=c,
                            seconds=args.seconds,
                            headers=headers,
                            cpu=place.load,
                        )
                        cpu_ms = (proc.cpu_s() - before) * 1000 / max(1, result.requests)
                        samples[name, c].append((result, cpu_ms))
            sections.append(overhead_table(label, samples))
        return "\n\n".join(sections)
    finally:
        router.stop()
        emulator.stop()


def overhead_table(
    label: str, samples: dict[tuple[str, int], list[tuple[wrk.LoadResult, float]]]
) -> str:
    rows = []
    for c in (1, 32):
        base = [r for r, _ in samples["direct", c]]
        runs = [r for r, _ in samples["router", c]]
        cpu = median([m for _, m in samples["router", c]])
        b50, b99 = median([r.p50_ms for r in base]), median([r.p99_ms for r in base])
        p50, p99 = median([r.p50_ms for r in runs]), median([r.p99_ms for r in runs])
        brps, rps = median([r.rps for r in base]), median([r.rps for r in runs])
        errors = sum(r.errors for r in base + runs)
        rows.append(
            [
                c,
                f"{b50:.2f}",
                f"{p50:.2f}",
                f"**+{p50 - b50:.2f}**",
                f"{b99:.2f}",
                f"{p99:.2f}",
                f"+{p99 - b99:.2f}",
                f"{brps:,.0f}",
                f"{rps:,.0f}",
                ratio(rps, brps),
                f"{cpu:.2f}",
                errors,
            ]
        )
    header = [
        "c",
        "direct p50",
        "router p50",
        "added p50",
        "direct p99",
        "router p99",
        "added p99",
        "direct req/s",
        "router req/s",
        "router/direct",
        "router CPU ms/req",
        "errors",
    ]
    return f"### emulator {label}\n\n" + markdown(header, rows)


def agent(place: Layout, logs: Path) -> str:
    emulator = servers.start_emulator(logs, place.load, speed=1)
    router = servers.start_router(emulator, logs, place.gateway)
    try:
        with httpx.Client(base_url=router.url, timeout=60) as client:
            client.post(ROUTER_CHAT, json={"model": "small", "messages": HELLO})  # warm up
            walls: dict[str, float] = {}
            tiers: dict[str, Counter[str]] = {}
            for mode in ("large", "auto"):
                history = [{"role": "system", "content": AGENT_SYSTEM}]
                used: Counter[str] = Counter()
                started = time.perf_counter()
                for step in AGENT_STEPS:
                    messages = [*history, {"role": "user", "content": step}]
                    reply = client.post(ROUTER_CHAT, json={"model": mode, "messages": messages})
                    reply.raise_for_status()
                    used[
                        f"{reply.headers['x-router-tier']} ({reply.headers['x-router-decided-by']})"
                    ] += 1
                walls[mode] = time.perf_counter() - started
                tiers[mode] = used
        rows = [
            ["all pinned to large", f"{walls['large']:.2f}", "1.00x", fmt(tiers["large"])],
            [
                "routed (`auto`)",
                f"{walls['auto']:.2f}",
                ratio(walls["auto"], walls["large"]),
                fmt(tiers["auto"]),
            ],
        ]
        return "### agent: ten sequential calls, emulator speed 1\n\n" + markdown(
            ["mode", "wall s", "vs pinned", "answered by (decided by)"], rows
        )
    finally:
        router.stop()
        emulator.stop()


def fmt(counts: Counter[str]) -> str:
    return ", ".join(f"{n}x {what}" for what, n in counts.most_common())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args()
    if not wrk.available():
        sys.exit("wrk is needed: apt-get install -y wrk")
    place = layout(not args.no_pin)
    print(
        f"# router overhead ({place.describe()}; median of {args.rounds} interleaved rounds "
        f"of {args.seconds:g} s)\n",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        print(overhead(args, place, Path(tmp)) + "\n", flush=True)
        print(agent(place, Path(tmp)), flush=True)


if __name__ == "__main__":
    main()
