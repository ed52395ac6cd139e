"""bench/route_sample.py through a running router: its decisions are the scorer's, with the
band settled by the router's classifier (here the emulator's keyword rule)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from bench.route_sample import parse_sample, report, sent_body
from bench.routing.outcomes import by_router, by_scorer


def function(name: str, description: str) -> dict[str, Any]:
    parameters = {"type": "object", "properties": {"u": {"type": "number"}}}
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


PHYSICS = [
    function("calculate_final_velocity", "Final velocity of an object."),
    function("calculate_distance", "Distance travelled by an object."),
]
SAMPLE: list[dict[str, Any]] = [
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "label": "simple"},
    {"messages": [{"role": "user", "content": "Prove that sqrt(2) is irrational"}]},
    {"input": "thanks, that's all", "instructions": "Be brief.", "label": "simple"},  # Responses
    # an ask in a script the scorer does not read: the classifier decides
    {"messages": [{"role": "user", "content": "能帮我查一下今天的天气吗\uff1f"}], "group": "agent"},
    # one offered function performs an ask worded as a calculation: the classifier decides
    {
        "messages": [
            {
                "role": "user",
                "content": "Calculate the final velocity of an object that starts at 3 m/s "
                "and accelerates at 2 m/s^2 for 4 seconds.",
            }
        ],
        "tools": PHYSICS,
        "label": "complex",
        "group": "agent",
    },
]


def test_the_router_decides_as_the_scorer_with_its_classifier_in_the_band(
    router_url: str, tmp_path: Path
) -> None:
    sample = tmp_path / "sample.jsonl"
    sample.write_text("\n".join(json.dumps(row) for row in SAMPLE))
    prompts = parse_sample(sample.read_text().splitlines())
    # each body as the client sent it: the Responses one is read by the router itself
    decided, deciders = asyncio.run(
        by_router(prompts, router_url, concurrency=2, body_of=sent_body)
    )
    assert deciders["classifier"] == 2, deciders  # the two abstentions, nothing refused
    assert sum(deciders.values()) == len(SAMPLE)
    emulated = by_scorer(prompts)["emulator classifier"]
    assert [r.tier for r in decided] == [r.tier for r in emulated]
    assert [r.local for r in decided] == [r.local for r in emulated]
    text = report(prompts, router_url, "balanced")
    assert "Decided by: scorer 3, cache 2" in text  # the same asks again: the verdicts cached
    assert "| agent | complex/unlabelled | 2 | 1 |" in text
