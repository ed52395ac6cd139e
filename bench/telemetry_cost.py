"""What exporting telemetry costs the router: the same checkout side by side, without an exporter,
with the real Azure Monitor exporter (to a local recording ingestion endpoint,
devtools/ingestion.py) and with it at ROUTER_TRACE_SAMPLE_RATIO=0.1; wrk in interleaved rounds
against one fast fake upstream. Per variant: throughput, p50, CPU ms per request (the router
process, exporter threads included) and the telemetry items that arrived per request.

Run: .venv/bin/python -m bench.telemetry_cost [--rounds 3] [--seconds 4] [--concurrency 1,32]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.ab import BODY, CHAT
from bench.common import procs
from bench.common.layout import layout
from bench.common.rounds import interleaved, medians
from bench.common.table import markdown, ratio
from devtools.ingestion import Ingestion, running


def variants(ingestion: Ingestion) -> dict[str, dict[str, str]]:
    exporter = {
        "APPLICATIONINSIGHTS_CONNECTION_STRING": ingestion.connection_string(),
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
    }
    return {
        "no exporter": {},
        "Azure Monitor": exporter,
        "Azure Monitor, ratio 0.1": {**exporter, "ROUTER_TRACE_SAMPLE_RATIO": "0.1"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument(
        "--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 32]
    )
    args = parser.parse_args()
    place = layout(True)
    with running() as ingestion, tempfile.TemporaryDirectory(prefix="bench-tel-") as tmp:
        logs = Path(tmp)
        port = procs.free_port()
        argv = [sys.executable, "-m", "bench.common.fake_upstream", "--port", str(port)]
        upstream = procs.start("fake-upstream", argv, port, cpu=place.load, log_dir=logs)
        routers: dict[str, procs.Proc] = {}
        try:
            for label, env in variants(ingestion).items():
                rport = procs.free_port()
                routers[label] = procs.start(
                    slug(label),
                    [sys.executable, "-m", "devtools.localhost", "--port", str(rport)],
                    rport,
                    cpu=place.gateway,
                    log_dir=logs,
                    env={
                        "FOUNDRY_ENDPOINT": upstream.url,
                        "FOUNDRY_API_KEY": "fake",
                        "OTEL_SERVICE_NAME": slug(label),  # its items' cloud role
                        **env,
                    },
                )
            samples, sent = interleaved(
                routers,
                CHAT,
                BODY,
                concurrency=args.concurrency,
                rounds=args.rounds,
                seconds=args.seconds,
                cpu=place.load,
            )
            time.sleep(6)  # the exporters' last batch (5 s schedule)
            arrived = per_router(ingestion)
        finally:
            for router in routers.values():
                router.stop()
            upstream.stop()
    rows = []
    for c in args.concurrency:
        base = medians(samples[next(iter(routers)), c]).rps
        for label in routers:
            m = medians(samples[label, c])
            rows.append(
                [
                    label,
                    c,
                    f"{m.p50_ms:.2f}",
                    f"{m.rps:,.0f}",
                    ratio(m.rps, base),
                    f"{m.cpu_ms:.2f}",
                    f"{arrived.get(slug(label), 0) / max(1, sent[label]):.2f}",
                ]
            )
    print(
        f"# Telemetry cost ({place.describe()}; median of {args.rounds} interleaved rounds of "
        f"{args.seconds:g} s; fake upstream, no delay)\n"
    )
    headers = ["variant", "c", "p50 ms", "req/s", "vs no exporter", "CPU ms/req", "spans/req"]
    print(markdown(headers, rows))


def per_router(ingestion: Ingestion) -> dict[str, int]:
    """Span envelopes (requests and dependencies) that arrived, by the variant (cloud role)."""
    roles: dict[str, int] = defaultdict(int)
    for envelope in ingestion.items():
        if envelope["name"].endswith((".Request", ".RemoteDependency")):
            roles[envelope["tags"].get("ai.cloud.role", "")] += 1
    return roles


def slug(label: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in label)


if __name__ == "__main__":
    main()
