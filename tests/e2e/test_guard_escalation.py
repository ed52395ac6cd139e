"""The guard on a small tier's agent turn, end to end: the emulator's gpt-5-nano answers with a
broken turn (the broken_answer fault), and the router asks GPT-5 once instead of passing it on.

Default tiers: a simple turn with tools goes to `small-tools` (gpt-5-nano); above it is `large`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import Emulator, printed
from tests.order_tool import ORDER_ASK, ORDER_TOOL

TOOL = ORDER_TOOL
ORDER = ORDER_TOOL["function"]["parameters"]
ASK = [{"role": "user", "content": ORDER_ASK}]


def post(router_url: str, path: str, body: dict[str, Any]) -> httpx.Response:
    reply = httpx.post(f"{router_url}/api/v1/{path}", json=body, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply


def assert_escalated(reply: httpx.Response, emulator: Emulator, failure: str) -> None:
    assert reply.headers["x-router-tier"] == "large"
    assert f"escalated small-tools->large: {failure}" in reply.headers["x-router-adjusted"]
    assert [r["deployment"] for r in emulator.requests()] == ["gpt-5-nano", "gpt-5"]


@pytest.mark.parametrize(
    ("breakage", "failure"),
    [
        ("unknown_function", "unknown function"),
        ("unparseable_arguments", "unparseable tool arguments"),
        ("schema_violation", "invalid tool arguments"),
        ("empty", "empty answer"),
    ],
)
def test_a_broken_tool_turn_goes_once_to_the_next_tier_up(
    router_url: str,
    emulator: Emulator,
    router_output: dict[str, list[str]],
    breakage: str,
    failure: str,
) -> None:
    emulator.fault("gpt-5-nano", "broken_answer", breakage=breakage)
    reply = post(
        router_url, "chat/completions", {"model": "auto", "messages": ASK, "tools": [TOOL]}
    )
    assert_escalated(reply, emulator, failure)
    (call,) = reply.json()["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "get_order"
    assert "order_id" in json.loads(call["function"]["arguments"])
    wanted = f"guard_escalation from_tier=small-tools to_tier=large failure={failure}"
    assert printed(router_output[router_url], wanted)


def test_an_escalated_answer_costs_both_answers(router_url: str, emulator: Emulator) -> None:
    body = {"messages": ASK, "tools": [TOOL]}
    large_alone = post(router_url, "chat/completions", {**body, "model": "large"})
    emulator.fault("gpt-5-nano", "broken_answer", breakage="unknown_function")
    escalated = post(router_url, "chat/completions", {**body, "model": "auto"})
    assert escalated.headers["x-router-tier"] == "large"
    # the same GPT-5 answer, plus the small tier's broken one that the caller also pays for
    assert escalated.json()["usage"] == large_alone.json()["usage"]
    cost = float(escalated.headers["x-router-cost-usd"])
    assert cost > float(large_alone.headers["x-router-cost-usd"]) > 0


def test_structured_output_that_breaks_its_schema_goes_up(
    router_url: str, emulator: Emulator
) -> None:
    emulator.fault("gpt-5-nano", "broken_answer", breakage="schema_violation")
    fmt = {"type": "json_schema", "json_schema": {"name": "order", "schema": ORDER}}
    messages = [{"role": "user", "content": "Extract the order id from: my order 1182 is late"}]
    body = {"model": "auto", "messages": messages, "response_format": fmt}
    reply = post(router_url, "chat/completions", body)
    assert_escalated(reply, emulator, "invalid structured output")
    assert "order_id" in json.loads(reply.json()["choices"][0]["message"]["content"])


def test_the_responses_api_is_guarded_alike(router_url: str, emulator: Emulator) -> None:
    emulator.fault("gpt-5-nano", "broken_answer", breakage="unknown_function")
    client = openai.OpenAI(base_url=f"{router_url}/api/v1", api_key="unused", max_retries=0)
    tool: Any = {"type": "function", "name": "get_order", "parameters": ORDER}
    raw = client.responses.with_raw_response.create(
        model="auto", input=ASK[0]["content"], tools=[tool]
    )
    assert raw.headers["x-router-tier"] == "large"
    assert "escalated small-tools->large: unknown function" in raw.headers["x-router-adjusted"]
    calls = [item for item in raw.parse().output if item.type == "function_call"]
    assert [c.name for c in calls] == ["get_order"]


def test_a_whole_small_answer_is_not_asked_again(router_url: str, emulator: Emulator) -> None:
    reply = post(
        router_url, "chat/completions", {"model": "auto", "messages": ASK, "tools": [TOOL]}
    )
    assert reply.headers["x-router-tier"] == "small-tools"
    assert "escalated" not in reply.headers.get("x-router-adjusted", "")
    assert [r["deployment"] for r in emulator.requests()] == ["gpt-5-nano"]


def test_the_top_tier_is_never_second_guessed(router_url: str, emulator: Emulator) -> None:
    # Nothing is above GPT-5: its answer, broken or not, is the answer Foundry sent.
    emulator.fault("gpt-5", "broken_answer", breakage="unknown_function")
    body = {"model": "large", "messages": ASK, "tools": [TOOL]}
    reply = post(router_url, "chat/completions", body)
    assert reply.headers["x-router-tier"] == "large"
    (call,) = reply.json()["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] != "get_order"
    assert [r["deployment"] for r in emulator.requests()] == ["gpt-5"]


def stream_chat(router_url: str, body: dict[str, Any]) -> tuple[httpx.Headers, list[Any]]:
    chunks: list[Any] = []
    with httpx.stream(
        "POST", f"{router_url}/api/v1/chat/completions", json={**body, "stream": True}, timeout=30
    ) as reply:
        assert reply.status_code == 200
        for line in reply.iter_lines():
            if line.startswith("data: {"):
                chunks.append(json.loads(line[6:]))
        return reply.headers, chunks


def streamed_calls(chunks: list[Any]) -> dict[int, dict[str, str]]:
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for choice in chunk.get("choices") or []:
            for call in choice["delta"].get("tool_calls") or []:
                entry = calls.setdefault(call["index"], {"name": "", "arguments": ""})
                entry["name"] += call["function"].get("name") or ""
                entry["arguments"] += call["function"].get("arguments") or ""
    return calls


@pytest.mark.parametrize(
    ("breakage", "failure"),
    [("unknown_function", "unknown function"), ("schema_violation", "invalid tool arguments")],
)
def test_a_streamed_tool_call_is_held_and_checked(
    router_url: str, emulator: Emulator, breakage: str, failure: str
) -> None:
    emulator.fault("gpt-5-nano", "broken_answer", breakage=breakage)
    body = {"model": "auto", "messages": ASK, "tools": [TOOL]}
    headers, chunks = stream_chat(router_url, body)
    assert headers["x-router-tier"] == "large"
    assert f"escalated small-tools->large: {failure}" in headers["x-router-adjusted"]
    (call,) = streamed_calls(chunks).values()
    assert call["name"] == "get_order"
    assert "order_id" in json.loads(call["arguments"])
    assert [r["deployment"] for r in emulator.requests()] == ["gpt-5-nano", "gpt-5"]


def test_a_whole_streamed_tool_call_reaches_the_caller(router_url: str, emulator: Emulator) -> None:
    headers, chunks = stream_chat(router_url, {"model": "auto", "messages": ASK, "tools": [TOOL]})
    assert headers["x-router-tier"] == "small-tools"
    (call,) = streamed_calls(chunks).values()
    assert call["name"] == "get_order"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_the_responses_api_streams_are_held_alike(router_url: str, emulator: Emulator) -> None:
    emulator.fault("gpt-5-nano", "broken_answer", breakage="unparseable_arguments")
    client = openai.OpenAI(base_url=f"{router_url}/api/v1", api_key="unused", max_retries=0)
    tool: Any = {"type": "function", "name": "get_order", "parameters": ORDER}
    with client.responses.with_streaming_response.create(
        model="auto", input=ASK[0]["content"], tools=[tool], stream=True
    ) as raw:
        assert raw.headers["x-router-tier"] == "large"
        assert (
            "escalated small-tools->large: unparseable tool arguments"
            in raw.headers["x-router-adjusted"]
        )
        events = list(raw.parse())
    done = [e for e in events if e.type == "response.completed"]
    calls = [item for item in done[0].response.output if item.type == "function_call"]
    assert json.loads(calls[0].arguments)["order_id"]
