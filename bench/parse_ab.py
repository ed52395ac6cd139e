"""A/B the request parsers of two (or more) checkouts, in process: chat and Responses bodies
through each tree's `parse_chat_request` / `parse_responses_request`, p50 microseconds per call.

Each tree runs in its own process (its own `shared/`), the trees alternating round after round so
that the shared machine's drift falls on all of them alike; the table gives each body's median
over the rounds and its ratio to the first tree. Compare within one run only. For judging a
change to request validation, e.g.
    git archive main | tar -x -C /tmp/a
    .venv/bin/python -m bench.parse_ab /tmp/a . --labels main,mine

Run: .venv/bin/python -m bench.parse_ab DIR_A DIR_B [DIR_C ...] [--labels A,B,...] [--rounds 5]
     [--calls 20000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from bench.common.stats import median
from bench.common.table import markdown, ratio
from bench.common.trees import add_trees, tree_labels
from bench.responses import TOOLS, TURN

# Run in each tree: time each body's parser there, print the p50s (us) as a JSON list.
TIMER = """
import sys, time, orjson
from shared.api import parse_chat_request
from shared.responses.request import parse_responses_request
PARSERS = {"chat": parse_chat_request, "responses": parse_responses_request}
bodies, calls = orjson.loads(sys.stdin.buffer.read()), int(sys.argv[1])
p50s = []
for api, raw in bodies:
    parse, raw = PARSERS[api], raw.encode()
    for _ in range(calls // 10):
        parse(raw)
    times = []
    for _ in range(calls):
        started = time.perf_counter_ns()
        parse(raw)
        times.append(time.perf_counter_ns() - started)
    p50s.append(sorted(times)[calls // 2] / 1000)
print(orjson.dumps(p50s).decode())
"""


def bodies() -> dict[str, tuple[str, bytes]]:
    """Name -> (API, raw body): a short ask, a tool-loop turn and a long agent conversation each."""
    function = TOOLS[0]
    chat_tool = {"type": "function", "function": {k: v for k, v in function.items() if k != "type"}}
    ask, result = "What is the weather in Oslo tomorrow and the day after? " * 3, "rain, 12 C " * 8
    chat_turns: list[dict[str, Any]] = []
    responses_turns: list[dict[str, Any]] = []
    for n in range(25):
        call = {"name": function["name"], "arguments": '{"city": "Oslo"}'}
        chat_turns += [
            {"role": "user", "content": ask},
            {
                "role": "assistant",
                "tool_calls": [{"id": f"c{n}", "type": "function", "function": call}],
            },
            {"role": "tool", "tool_call_id": f"c{n}", "content": result},
        ]
        responses_turns += [
            {"role": "user", "content": [{"type": "input_text", "text": ask}]},
            {"type": "function_call", "call_id": f"c{n}", **call},
            {"type": "function_call_output", "call_id": f"c{n}", "output": result},
        ]
    chat = {"model": "auto", "tools": [chat_tool] * 10}
    responses = {"model": "auto", "tools": [function] * 10, "store": False}
    named = {
        "chat: one message": (
            "chat",
            {"model": "auto", "messages": [{"role": "user", "content": "hi"}]},
        ),
        "chat: 75-message agent conversation, 10 tools": ("chat", {**chat, "messages": chat_turns}),
        "responses: a string input": ("responses", {"model": "auto", "input": "hi"}),
        "responses: a tool-loop turn (bench/responses.py)": ("responses", TURN),
        "responses: 75-item agent conversation, 10 tools": (
            "responses",
            {**responses, "input": responses_turns},
        ),
    }
    return {name: (api, orjson.dumps(body)) for name, (api, body) in named.items()}


def timed(tree: Path, named: dict[str, tuple[str, bytes]], calls: int) -> list[float]:
    sent = orjson.dumps([[api, raw.decode()] for api, raw in named.values()])
    run = subprocess.run(
        [sys.executable, "-c", TIMER, str(calls)],
        cwd=tree,
        input=sent,
        capture_output=True,
        check=True,
        timeout=600,
    )
    p50s: list[float] = orjson.loads(run.stdout)
    return p50s


def table(trees: list[Path], labels: list[str], rounds: int, calls: int) -> str:
    named = bodies()
    runs: dict[str, list[list[float]]] = {label: [] for label in labels}
    for _ in range(rounds):
        for tree, label in zip(trees, labels, strict=True):
            runs[label].append(timed(tree, named, calls))
    medians = {
        label: [median([r[i] for r in rows]) for i in range(len(named))]
        for label, rows in runs.items()
    }
    base = medians[labels[0]]
    rows = [
        [
            name,
            *(f"{medians[label][i]:.1f} ({ratio(medians[label][i], base[i])})" for label in labels),
        ]
        for i, name in enumerate(named)
    ]
    header = ["body", *(f"{label} p50 us" for label in labels)]
    return f"### request parsing ({rounds} rounds x {calls} calls)\n\n" + markdown(header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_trees(parser)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    labels = tree_labels(parser, args)
    print(table([t.resolve() for t in args.trees], labels, args.rounds, args.calls))


if __name__ == "__main__":
    main()
