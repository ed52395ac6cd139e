"""The broken_answer fault: a well-formed 200 whose agent turn is wrong, for the router's guard."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.emulator.helpers import KEY, add_fault, chat
from tests.order_tool import ORDER_ASK as ASK
from tests.order_tool import ORDER_TOOL


def tool_call(client: httpx.Client) -> dict[str, Any]:
    reply = chat(client, "gpt-5-nano", ASK, tools=[ORDER_TOOL])
    assert reply.status_code == 200, reply.text
    message = reply.json()["choices"][0]["message"]
    (call,) = message["tool_calls"]
    return dict(call["function"])


def test_without_the_fault_the_call_is_right(client: httpx.Client) -> None:
    call = tool_call(client)
    assert call["name"] == "get_order"
    assert "order_id" in json.loads(call["arguments"])


def test_unknown_function(client: httpx.Client) -> None:
    add_fault(client, deployment="gpt-5-nano", kind="broken_answer", breakage="unknown_function")
    call = tool_call(client)
    assert call["name"] != "get_order"
    assert tool_call(client)["name"] == "get_order"  # times 1: the next answer is whole


def test_unparseable_arguments(client: httpx.Client) -> None:
    add_fault(
        client, deployment="gpt-5-nano", kind="broken_answer", breakage="unparseable_arguments"
    )
    call = tool_call(client)
    assert call["name"] == "get_order"
    with pytest.raises(json.JSONDecodeError):
        json.loads(call["arguments"])


def test_schema_violation(client: httpx.Client) -> None:
    add_fault(client, deployment="gpt-5-nano", kind="broken_answer", breakage="schema_violation")
    call = tool_call(client)
    assert call["name"] == "get_order"
    assert "order_id" not in json.loads(call["arguments"])  # the required field left out


def test_schema_violation_of_structured_output(client: httpx.Client) -> None:
    add_fault(client, deployment="gpt-5-nano", kind="broken_answer", breakage="schema_violation")
    schema = ORDER_TOOL["function"]["parameters"]
    fmt = {"type": "json_schema", "json_schema": {"name": "order", "schema": schema}}
    reply = chat(client, "gpt-5-nano", "Order 1182?", response_format=fmt)
    assert reply.status_code == 200, reply.text
    assert "order_id" not in json.loads(reply.json()["choices"][0]["message"]["content"])


def test_empty(client: httpx.Client) -> None:
    add_fault(client, deployment="gpt-5-nano", kind="broken_answer", breakage="empty")
    reply = chat(client, "gpt-5-nano", ASK, tools=[ORDER_TOOL])
    message = reply.json()["choices"][0]["message"]
    assert message["content"] == ""
    assert not message.get("tool_calls")


def test_a_stream_carries_the_broken_call(client: httpx.Client) -> None:
    add_fault(client, deployment="gpt-5-nano", kind="broken_answer", breakage="unknown_function")
    reply = chat(client, "gpt-5-nano", ASK, tools=[ORDER_TOOL], stream=True)
    names = [
        call["function"]["name"]
        for line in reply.text.splitlines()
        if line.startswith("data: {")
        for call in json.loads(line[6:])["choices"][0]["delta"].get("tool_calls") or []
    ]
    assert names
    assert "get_order" not in names


def test_responses_output_items(client: httpx.Client) -> None:
    add_fault(client, deployment="gpt-5-nano", kind="broken_answer", breakage="schema_violation")
    tool = {"type": "function", **ORDER_TOOL["function"]}
    reply = client.post(
        "/openai/v1/responses",
        json={"model": "gpt-5-nano", "input": ASK, "tools": [tool]},
        headers=KEY,
    )
    assert reply.status_code == 200, reply.text
    (call,) = [item for item in reply.json()["output"] if item["type"] == "function_call"]
    assert call["name"] == "get_order"
    assert json.loads(call["arguments"]) == {}


def test_an_unknown_breakage_is_refused(client: httpx.Client) -> None:
    reply = client.post("/control/faults", json={"kind": "broken_answer", "breakage": "odd"})
    assert reply.status_code == 400
    assert "breakage" in reply.text
