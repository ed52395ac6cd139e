"""hybrid-router vs LiteLLM proxy vs Portkey gateway, against one fast fake upstream.

For each upstream delay (0 and 50 ms) and concurrency (1, 32, 128): wrk POSTs the same chat
request to the upstream directly and through each gateway, in interleaved rounds, and reports
added latency (p50, p99), throughput, CPU ms per request (from /proc of the gateway's PIDs) and
RSS, with ratios to the direct call. Loopback only; every process is stopped by PID.

Run: .venv/bin/python -m bench.peers.run [--seconds 4] [--rounds 3] [--only hybrid-router]
     [--tree before=/tmp/before]   # another checkout of the router, side by side in the run
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

from bench.common import procs, wrk
from bench.common.layout import layout
from bench.common.stats import median
from bench.common.table import markdown, ratio
from bench.peers.gateways import Gateway, all_gateways

DIRECT = "direct"


@dataclass
class Sample:
    load: wrk.LoadResult
    cpu_ms_per_request: float


def body(model: str) -> bytes:
    return orjson.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]})


def sane(gateway: Gateway, url: str) -> str | None:
    """One request by hand: None when the gateway answers like OpenAI, else what is wrong."""
    try:
        reply = httpx.post(url, content=body(gateway.model), headers=gateway.headers, timeout=30)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if reply.status_code != 200 or "choices" not in reply.text:
        return f"HTTP {reply.status_code}: {reply.text[:300]}"
    decided = reply.headers.get("x-router-decided-by")
    if gateway.path.startswith("/api/") and decided != "scorer":
        return f"expected the scorer to decide, got {decided!r}"
    return None


def measure(
    url: str, gateway: Gateway, proc: procs.Proc | None, c: int, seconds: float, cpu: list[int]
) -> Sample:
    before = proc.cpu_s() if proc else 0.0
    load = wrk.run(
        url, body(gateway.model), connections=c, seconds=seconds, headers=gateway.headers, cpu=cpu
    )
    used = (proc.cpu_s() - before) if proc else 0.0
    return Sample(load, used * 1000 / load.requests if load.requests else float("nan"))


def run_delay(delay_ms: float, args: argparse.Namespace, logs: Path) -> str:
    place = layout(not args.no_pin)
    port = procs.free_port()
    upstream = procs.start(
        f"fake-upstream-{delay_ms:g}ms",
        [
            sys.executable,
            "-m",
            "bench.common.fake_upstream",
            "--port",
            str(port),
            "--delay-ms",
            str(delay_ms),
        ],
        port,
        cpu=place.load,
        log_dir=logs,
    )
    started: dict[str, tuple[Gateway, procs.Proc, str]] = {}
    try:
        for gateway, installable in all_gateways(upstream.url, args.tree):
            if args.only and gateway.name not in args.only:
                continue
            if not installable():
                continue
            gport = procs.free_port()
            try:
                assert gateway.start is not None
                proc = gateway.start(upstream.url, gport, logs, place.gateway)
            except RuntimeError as exc:
                print(f"skipping {gateway.name}: {exc}", flush=True)
                continue
            url = proc.url + gateway.path
            problem = sane(gateway, url)
            if problem:
                print(f"skipping {gateway.name}: {problem}", flush=True)
                proc.stop()
                continue
            started[gateway.name] = (gateway, proc, url)
        direct = Gateway(DIRECT, "/v1/chat/completions", model="fake")
        targets = [(direct, None, upstream.url + direct.path), *list(started.values())]
        for gateway, running, url in targets:  # warm up: JIT (node), pools, caches
            measure(url, gateway, running, 32, 1, place.load)
        samples: dict[tuple[str, int], list[Sample]] = defaultdict(list)
        for _ in range(args.rounds):
            for c in args.concurrency:
                for gateway, running, url in targets:
                    samples[gateway.name, c].append(
                        measure(url, gateway, running, c, args.seconds, place.load)
                    )
        rss = {name: proc.rss_mb() for name, (_, proc, _) in started.items()}
        return report(delay_ms, args, samples, [t[0].name for t in targets], rss)
    finally:
        for _, proc, _ in started.values():
            proc.stop()
        upstream.stop()


def report(
    delay_ms: float,
    args: argparse.Namespace,
    samples: dict[tuple[str, int], list[Sample]],
    names: list[str],
    rss: dict[str, float],
) -> str:
    rows = []
    for c in args.concurrency:
        base = samples[DIRECT, c]
        b50 = median([s.load.p50_ms for s in base])
        b99 = median([s.load.p99_ms for s in base])
        brps = median([s.load.rps for s in base])
        for name in names:
            runs = samples[name, c]
            p50 = median([s.load.p50_ms for s in runs])
            p99 = median([s.load.p99_ms for s in runs])
            rps = median([s.load.rps for s in runs])
            errors = sum(s.load.errors for s in runs)
            if name == DIRECT:
                rows.append(
                    [
                        name,
                        c,
                        f"{p50:.2f}",
                        "",
                        f"{p99:.2f}",
                        "",
                        f"{rps:,.0f}",
                        "1.00x",
                        "",
                        "",
                        errors,
                    ]
                )
                continue
            cpu = median([s.cpu_ms_per_request for s in runs])
            rows.append(
                [
                    name,
                    c,
                    f"{p50:.2f}",
                    f"+{p50 - b50:.2f}",
                    f"{p99:.2f}",
                    f"+{p99 - b99:.2f}",
                    f"{rps:,.0f}",
                    ratio(rps, brps),
                    f"{cpu:.2f}",
                    f"{rss.get(name, 0):.0f}",
                    errors,
                ]
            )
    header = [
        "target",
        "c",
        "p50 ms",
        "added p50",
        "p99 ms",
        "added p99",
        "req/s",
        "req/s vs direct",
        "CPU ms/req",
        "RSS MB",
        "errors",
    ]
    return f"### upstream delay {delay_ms:g} ms\n\n" + markdown(header, rows)


def _tree(text: str) -> tuple[str, Path]:
    label, _, tree = text.partition("=")
    if not label or not tree:
        raise argparse.ArgumentTypeError("expected LABEL=DIR")
    return label, Path(tree)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 32, 128]
    )
    parser.add_argument(
        "--delays", type=lambda s: [float(x) for x in s.split(",")], default=[0.0, 50.0]
    )
    parser.add_argument("--only", nargs="*", help="gateway names to run (default: all)")
    parser.add_argument("--no-pin", action="store_true", help="don't pin processes to CPUs")
    parser.add_argument(
        "--tree",
        action="append",
        default=[],
        type=_tree,
        help="LABEL=DIR: another checkout of the router, measured beside the others",
    )
    args = parser.parse_args()
    if not wrk.available():
        sys.exit("wrk is needed: apt-get install -y wrk")
    place = layout(not args.no_pin)
    runs = len(args.delays) * len(args.concurrency) * args.rounds * (4 + len(args.tree))
    print(
        f"# gateways vs direct ({place.describe()}); about {runs * args.seconds:.0f} s "
        f"of load plus start-up\n",
        flush=True,
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        for delay in args.delays:
            with contextlib.suppress(KeyboardInterrupt):
                print(run_delay(delay, args, Path(tmp)) + "\n", flush=True)
    print(
        f"median of {args.rounds} interleaved rounds of {args.seconds:g} s per cell; "
        f"took {time.monotonic() - started:.0f} s",
        flush=True,
    )


if __name__ == "__main__":
    main()
