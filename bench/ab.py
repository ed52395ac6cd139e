"""A/B two (or more) checkouts of the router side by side: their local hosts against one fast
fake upstream, wrk in interleaved rounds; throughput, p50 and CPU ms per request for each.

For judging a change by its effect on the same machine at the same minutes, e.g.
    git archive main | tar -x -C /tmp/a
    .venv/bin/python -m bench.ab /tmp/a . --labels main,perf

Run: .venv/bin/python -m bench.ab DIR_A DIR_B [DIR_C ...] [--labels A,B,...] [--rounds 3]
     [--concurrency 1,32]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import orjson

from bench.common import procs
from bench.common.layout import layout
from bench.common.rounds import interleaved, medians
from bench.common.table import markdown, ratio
from bench.common.trees import add_trees, tree_labels

BODY = orjson.dumps({"model": "auto", "messages": [{"role": "user", "content": "hi"}]})
CHAT = "/api/v1/chat/completions"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_trees(parser)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument(
        "--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 32, 128]
    )
    args = parser.parse_args()
    labels = tree_labels(parser, args)
    place = layout(True)
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        logs = Path(tmp)
        port = procs.free_port()
        argv = [sys.executable, "-m", "bench.common.fake_upstream", "--port", str(port)]
        upstream = procs.start("fake-upstream", argv, port, cpu=place.load, log_dir=logs)
        routers: dict[str, procs.Proc] = {}
        try:
            for label, tree in zip(labels, args.trees, strict=True):
                rport = procs.free_port()
                routers[label] = procs.start(
                    label,
                    [sys.executable, "-m", "devtools.localhost", "--port", str(rport)],
                    rport,
                    cwd=tree.resolve(),
                    cpu=place.gateway,
                    log_dir=logs,
                    env={"FOUNDRY_ENDPOINT": upstream.url, "FOUNDRY_API_KEY": "fake"},
                )
            samples, _ = interleaved(
                routers,
                CHAT,
                BODY,
                concurrency=args.concurrency,
                rounds=args.rounds,
                seconds=args.seconds,
                cpu=place.load,
            )
        finally:
            for router in routers.values():
                router.stop()
            upstream.stop()
    rows = []
    for c in args.concurrency:
        base = medians(samples[labels[0], c]).rps
        for label in labels:
            m = medians(samples[label, c])
            rows.append(
                [
                    label,
                    c,
                    f"{m.p50_ms:.2f}",
                    f"{m.p99_ms:.2f}",
                    f"{m.rps:,.0f}",
                    ratio(m.rps, base),
                    f"{m.cpu_ms:.2f}",
                    m.errors,
                ]
            )
    print(
        f"# A/B ({place.describe()}; median of {args.rounds} interleaved rounds of "
        f"{args.seconds:g} s; fake upstream, no delay)\n"
    )
    print(
        markdown(
            ["tree", "c", "p50 ms", "p99 ms", "req/s", f"vs {labels[0]}", "CPU ms/req", "errors"],
            rows,
        )
    )


if __name__ == "__main__":
    main()
