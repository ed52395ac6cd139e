"""An agent loop of ten sequential calls through the router, on the shipped default tiers.

Every call carries the same six tools, as agent frameworks send them (`--tools N`: those six
and unrelated ones up to N, as an agent with a long tool list sends them). The mix (STEPS): pick a
tool for a clear ask and read its short result (three times), a follow-up, one planning step,
formatting, small talk; nine steps a small model can do, one that needs the large one. The
router runs the default tier table (no ROUTER_TIERS: Phi-4-mini, gpt-5-nano as `small-tools`,
GPT-5), the emulator answers at its latencies (speed 1: Phi-4-mini 50-150 ms, gpt-5-nano at
minimal effort 60-140 ms, GPT-5 500-2,000 ms) and calls a tool when the user names it; the bench
plays the tools. Modes, interleaved in each round, side by side: all on the large tier, all on
the small tier that takes tools (Phi-4-mini takes none), routed (`auto`), routed with every
answer waiting for the classifier's verdict (a second router, ROUTER_SPECULATE=off), ideal
(each step pinned to the cheapest tier that can do it), and routed under the emulator's
broken_answer fault: four of the nine small calls answered with a broken turn (FAULTS: an
unknown function, unparseable arguments, a schema violation, an empty answer), to measure the
guard's escalations and what they cost. Time is the median wall clock of a whole loop over the
rounds; cost is the sum of `x-router-cost-usd` (list prices).

Run: .venv/bin/python -m bench.agent_loop [--rounds 3] [--tools 6] [--no-pin]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.common import servers
from bench.common.layout import layout
from bench.common.stats import median
from bench.common.table import markdown, ratio
from bench.tool_count import padded
from shared import guard

ROUTER_CHAT = "/api/v1/chat/completions"
SYSTEM = "You are the operations agent of an online shop. Use the tools when they help."


def _tool(name: str, description: str, **params: str) -> dict[str, Any]:
    properties = {p: {"type": "string", "description": d} for p, d in params.items()}
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": list(params)},
        },
    }


TOOLS = [
    _tool("get_order", "Look up an order by its id.", order_id="the order id"),
    _tool("search_docs", "Search the shop's policy documents.", query="what to look for"),
    _tool("send_email", "Send an email.", to="address", subject="subject", body="text"),
    _tool("create_ticket", "Open a ticket for the operations team.", title="title", body="text"),
    _tool("run_sql", "Run a read-only SQL query on the orders database.", query="SQL"),
    _tool("get_weather", "The current weather in a city.", city="city name"),
]


def tool_list(count: int) -> list[dict[str, Any]]:
    """The loop's six tools, then unrelated ones (bench/tool_count.py) up to `count`."""
    if count < len(TOOLS):
        raise ValueError(f"--tools takes {len(TOOLS)} or more")
    try:
        return padded(TOOLS, count)
    except ValueError as too_many:
        raise ValueError(f"--tools takes {too_many}") from None


# Results the bench's tools return, by tool name.
RESULTS = {
    "get_order": '{"order_id": "1182", "status": "shipped", "carrier": "DHL", "eta": "2025-03-07"}',
    "search_docs": '{"title": "Returns", "text": "Items can be returned within 30 days."}',
    "send_email": '{"sent": true, "id": "msg-551"}',
}


@dataclass(frozen=True, slots=True)
class Step:
    """One call: a new user message (None: the call that reads the last tool result)."""

    user: str | None
    ideal: str  # the cheapest tier that can do it: "small" or "large"
    kind: str


STEPS = (
    Step("Use the get_order tool for order 1182.", "small", "pick a tool"),
    Step(None, "small", "read a short tool result"),
    Step("Is it insured? Just say yes or no if you know.", "small", "short follow-up"),
    Step("Use the search_docs tool to find the returns policy.", "small", "pick a tool"),
    Step(None, "small", "read a short tool result"),
    Step(
        "Plan a three-step migration of our order history from MySQL to Postgres with no "
        "downtime, with the risks of each step.",
        "large",
        "planning",
    ),
    Step("Format that as a bulleted list.", "small", "formatting"),
    Step("thanks", "small", "small talk"),
    Step("Use the send_email tool to send the summary to ops@example.com.", "small", "pick a tool"),
    Step(None, "small", "read a short tool result"),
)
# The default tier table's names (shared/settings.py DEFAULT_TIERS): every call here carries
# tools, so a step a small model can do is for the small tier that takes them.
SMALL_TOOLS = "small-tools"
LARGE = "large"


def ideal_tier(step: Step) -> str:
    return LARGE if step.ideal == "large" else SMALL_TOOLS


# Step index -> the breakage the emulator answers that step's small-tier call with, in the
# fault mode: one of each kind the guard checks, on steps a small model does (ideal small).
FAULTS = {0: "unknown_function", 3: "unparseable_arguments", 7: "empty", 8: "schema_violation"}


@dataclass
class Run:
    wall_s: float = 0.0
    cost_usd: float = 0.0
    tiers: list[str] = field(default_factory=list)
    decided_by: list[str] = field(default_factory=list)
    escalated: int = 0  # calls the guard sent one tier up (x-router-adjusted)
    broken: int = 0  # answers that reached the agent broken all the same (the guard's check)


Inject = Callable[[str], None]  # arms the emulator's broken_answer fault for the next call


def run_loop(
    client: httpx.Client,
    model_for: Sequence[str],
    inject: Inject | None = None,
    tools: Sequence[dict[str, Any]] = TOOLS,
) -> Run:
    """The ten calls, in order; `model_for[i]` is the `model` of call i ("auto" to route)."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}]
    expected = guard.chat_expectations({"tools": tools})
    run = Run()
    started = time.perf_counter()
    for i, (step, model) in enumerate(zip(STEPS, model_for, strict=True)):
        if step.user is not None:
            messages.append({"role": "user", "content": step.user})
        if inject is not None and i in FAULTS:
            inject(FAULTS[i])
        reply = client.post(
            ROUTER_CHAT, json={"model": model, "messages": messages, "tools": tools}
        )
        reply.raise_for_status()
        run.cost_usd += float(reply.headers["x-router-cost-usd"])
        run.tiers.append(reply.headers["x-router-tier"])
        run.decided_by.append(reply.headers["x-router-decided-by"])
        run.escalated += "escalated " in reply.headers.get("x-router-adjusted", "")
        run.broken += guard.check_chat(expected, reply.json()) is not None
        message = reply.json()["choices"][0]["message"]
        messages.append({k: v for k, v in message.items() if v is not None or k == "content"})
        for call in message.get("tool_calls") or []:
            name = call["function"]["name"]
            content = RESULTS.get(name, '{"ok": true}')
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": content})
    run.wall_s = time.perf_counter() - started
    return run


# Routed on a second router with ROUTER_SPECULATE=off: the answer waits for the classifier.
AFTER_VERDICT = "routed, answer after the verdict"
MODES = ("all large", "all small", "routed", AFTER_VERDICT, "ideal", "routed, broken small answers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tools", type=int, default=len(TOOLS), help="tools on every call")
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args()
    tools = tool_list(args.tools)
    place = layout(not args.no_pin)
    n = len(STEPS)
    models = {
        "all large": [LARGE] * n,
        "all small": [SMALL_TOOLS] * n,
        "routed": ["auto"] * n,
        AFTER_VERDICT: ["auto"] * n,
        "ideal": [ideal_tier(s) for s in STEPS],
        "routed, broken small answers": ["auto"] * n,
    }
    runs: dict[str, list[Run]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="bench-agent-") as tmp:
        logs = Path(tmp)
        emulator = servers.start_emulator(logs, place.load, speed=1)
        # The default tiers. No classifier cache: the bench repeats one loop, an agent's turns
        # differ, so every turn the scorer leaves to the classifier pays for its call.
        router = servers.start_router(
            emulator, logs, place.gateway, ROUTER_CLASSIFIER_CACHE_TTL_S="0"
        )
        waiting = servers.start_router(
            emulator,
            logs,
            place.gateway,
            ROUTER_CLASSIFIER_CACHE_TTL_S="0",
            ROUTER_SPECULATE="off",
        )

        def inject(breakage: str) -> None:
            fault = {"kind": "broken_answer", "deployment": "gpt-5-nano", "breakage": breakage}
            servers.control(emulator, "/control/faults", fault)

        try:
            with (
                httpx.Client(base_url=router.url, timeout=60) as client,
                httpx.Client(base_url=waiting.url, timeout=60) as after_verdict,
            ):
                for each in (client, after_verdict):  # warm up the routers and every tier
                    for tier in ("small", SMALL_TOOLS, LARGE):
                        each.post(
                            ROUTER_CHAT,
                            json={"model": tier, "messages": [{"role": "user", "content": "hi"}]},
                        )
                for _ in range(args.rounds):
                    for mode in MODES:
                        faulty = mode == "routed, broken small answers"
                        through = after_verdict if mode == AFTER_VERDICT else client
                        runs[mode].append(
                            run_loop(through, models[mode], inject if faulty else None, tools)
                        )
        finally:
            router.stop()
            waiting.stop()
            emulator.stop()
    print(report(runs, args.rounds, place.describe(), len(tools)))


def classified(run: Run) -> int:
    return sum(by == "classifier" for by in run.decided_by)


def dropped(run: Run) -> int:
    """Steps the classifier sent large: the answer started on the small tier was dropped."""
    steps = zip(run.decided_by, run.tiers, strict=True)
    return sum(by == "classifier" and tier == LARGE for by, tier in steps)


def report(runs: dict[str, list[Run]], rounds: int, where: str, tools: int = len(TOOLS)) -> str:
    wall = {m: median([r.wall_s for r in rs]) for m, rs in runs.items()}
    cost = {m: median([r.cost_usd for r in rs]) for m, rs in runs.items()}
    rows = []
    for mode in MODES:
        last = runs[mode][-1]
        large_steps = sum(t == LARGE for t in last.tiers)
        rows.append(
            [
                mode,
                f"{wall[mode]:.2f}",
                f"${cost[mode] * 1000:.3f}",
                ratio(wall[mode], wall["ideal"]),
                ratio(cost[mode], cost["ideal"]),
                ratio(wall["all large"], wall[mode]),
                f"{len(last.tiers) - large_steps} small / {large_steps} large",
            ]
        )
    header = [
        "mode",
        "wall s (median)",
        "cost per loop (x1000)",
        "time vs ideal",
        "cost vs ideal",
        "speed-up vs all large",
        "steps",
    ]
    steps = []
    for i, step in enumerate(STEPS):
        routed = [r.tiers[i] for r in runs["routed"]]
        how = [r.decided_by[i] for r in runs["routed"]]
        steps.append([i + 1, step.kind, ideal_tier(step), "/".join(sorted(set(routed))), how[-1]])
    missed = [
        f"step {i + 1} ({step.kind}) in round {k + 1}"
        for k, r in enumerate(runs["routed"])
        for i, step in enumerate(STEPS)
        if step.ideal == "large" and r.tiers[i] != LARGE
    ]
    auto = runs["routed"]
    guesses = (
        f"answers started while the classifier decided: {sum(classified(r) for r in auto)} in "
        f"{len(auto)} routed loops, {sum(dropped(r) for r in auto)} dropped for a complex "
        "verdict (each costs at most a small-tier call)"
    )
    faulty = runs.get("routed, broken small answers") or []
    escalations = (
        f"guard under the broken_answer fault ({len(FAULTS)} of {len(STEPS)} calls broken per "
        f"loop, {len(faulty)} loops): {sum(r.escalated for r in faulty)} escalated of "
        f"{len(FAULTS) * len(faulty)} broken, {sum(r.broken for r in faulty)} reached the agent "
        f"broken; time {ratio(wall.get('routed, broken small answers', 0), wall['routed'])} "
        f"and cost {ratio(cost.get('routed, broken small answers', 0), cost['routed'])} of routed"
    )
    return "\n\n".join(
        [
            f"### agent loop on the default tiers: ten sequential calls with {tools} tools "
            f"each, emulator speed 1 ({where}; median of {rounds} interleaved rounds)",
            markdown(header, rows),
            markdown(["step", "kind", "ideal", "routed", "decided by"], steps),
            "complex steps sent small: " + (", ".join(missed) if missed else "none"),
            guesses,
            escalations,
        ]
    )


if __name__ == "__main__":
    main()
