"""The guard on a small model's agent turn: pure checks of an answer against its request."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from shared.guard import (
    NOTHING,
    chat_expectations,
    check_chat,
    check_responses,
    check_tool_call,
    responses_expectations,
)

ORDER = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "priority": {"type": "string", "enum": ["low", "high"]},
        "quantity": {"type": "integer"},
    },
    "required": ["order_id"],
}
TOOLS = [
    {"type": "function", "function": {"name": "get_order", "parameters": ORDER}},
    {"type": "function", "function": {"name": "ping"}},  # no parameters: any JSON arguments
]
RESPONSES_TOOLS = [{"type": "function", "name": "get_order", "parameters": ORDER}]
CHAT = chat_expectations({"tools": TOOLS})


def chat_answer(
    content: str | None = None,
    calls: list[tuple[str, str]] | None = None,
    refusal: str | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal}
    if calls:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": a}}
            for i, (n, a) in enumerate(calls)
        ]
    return {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}


def responses_answer(*items: dict[str, Any]) -> dict[str, Any]:
    return {"object": "response", "output": [{"type": "reasoning", "summary": []}, *items]}


def text_item(text: str) -> dict[str, Any]:
    return {"type": "message", "content": [{"type": "output_text", "text": text}]}


def call_item(name: str, arguments: str) -> dict[str, Any]:
    return {"type": "function_call", "call_id": "c1", "name": name, "arguments": arguments}


@pytest.mark.parametrize(
    ("calls", "failure"),
    [
        ([("get_order", '{"order_id": "1182"}')], None),
        ([("get_order", '{"order_id": "1182", "priority": "high", "quantity": 2}')], None),
        ([("ping", "{}"), ("get_order", '{"order_id": "7"}')], None),
        ([("ping", '"anything JSON"')], None),
        ([("get_weather", '{"city": "Paris"}')], "unknown function"),
        ([("get_order", '{"order_id": "1182"')], "unparseable tool arguments"),
        ([("get_order", "")], "invalid tool arguments"),  # no arguments: {} lacks order_id
        ([("ping", "")], None),  # a function without parameters called with no arguments
        ([("ping", " ")], None),
        ([("get_order", "[")], "unparseable tool arguments"),
        ([("get_order", "{}")], "invalid tool arguments"),  # a required field missing
        ([("get_order", '{"order_id": 1182}')], "invalid tool arguments"),  # a wrong type
        ([("get_order", '{"order_id": "1", "priority": "urgent"}')], "invalid tool arguments"),
        ([("get_order", '{"order_id": "1", "quantity": 1.5}')], "invalid tool arguments"),
        ([("ping", "{}"), ("nope", "{}")], "unknown function"),  # every call is checked
    ],
)
def test_chat_tool_calls(calls: list[tuple[str, str]], failure: str | None) -> None:
    assert check_chat(CHAT, chat_answer(calls=calls)) == failure


@pytest.mark.parametrize(
    ("answer", "failure"),
    [
        (chat_answer("It shipped on Monday."), None),
        (chat_answer(None), "empty answer"),
        (chat_answer(""), "empty answer"),
        (chat_answer("  \n"), "empty answer"),
        (chat_answer(None, refusal="I can't help with that."), None),
        ({"choices": [{"index": 0, "message": None}]}, "empty answer"),
    ],
)
def test_chat_empty_answers(answer: dict[str, Any], failure: str | None) -> None:
    assert check_chat(CHAT, answer) == failure


@pytest.mark.parametrize(
    "tool_calls", [5, "get_order", [7], [{"type": "function", "function": []}]]
)
def test_malformed_tool_calls_are_a_failure_not_an_error(tool_calls: object) -> None:
    answer = chat_answer()
    answer["choices"][0]["message"]["tool_calls"] = tool_calls
    assert check_chat(CHAT, answer) == "unknown function"


def test_structured_output_is_held_to_its_schema() -> None:
    schema = {"type": "json_schema", "json_schema": {"name": "order", "schema": ORDER}}
    expected = chat_expectations({"response_format": schema})
    assert expected.agent_turn
    assert check_chat(expected, chat_answer('{"order_id": "1"}')) is None
    assert check_chat(expected, chat_answer('{"priority": "low"}')) == "invalid structured output"
    assert check_chat(expected, chat_answer('{"order_id": "1"')) == "invalid structured output"
    assert check_chat(expected, chat_answer("Here you go")) == "invalid structured output"
    assert check_chat(expected, chat_answer(None, refusal="No.")) is None
    json_mode = chat_expectations({"response_format": {"type": "json_object"}})
    assert check_chat(json_mode, chat_answer('{"any": 1}')) is None
    assert check_chat(json_mode, chat_answer("[1, 2]")) == "invalid structured output"


def test_legacy_functions_are_offered_functions() -> None:
    expected = chat_expectations({"functions": [{"name": "get_order", "parameters": ORDER}]})
    legacy = {"choices": [{"message": {"function_call": {"name": "get_order", "arguments": "{}"}}}]}
    assert check_chat(expected, legacy) == "invalid tool arguments"


def test_a_request_without_tools_or_json_is_not_an_agent_turn() -> None:
    assert chat_expectations({"messages": []}) is NOTHING
    assert not NOTHING.agent_turn
    assert chat_expectations({"response_format": {"type": "text"}}) is NOTHING
    assert chat_expectations({"tools": TOOLS}).agent_turn


@pytest.mark.parametrize(
    ("items", "failure"),
    [
        ((call_item("get_order", '{"order_id": "9"}'),), None),
        ((text_item("Done."),), None),
        ((call_item("get_weather", "{}"),), "unknown function"),
        ((call_item("get_order", "{order_id: 9}"),), "unparseable tool arguments"),
        ((call_item("get_order", '{"order_id": ["9"]}'),), "invalid tool arguments"),
        ((), "empty answer"),
        ((text_item(""),), "empty answer"),
    ],
)
def test_responses_output_items(items: tuple[dict[str, Any], ...], failure: str | None) -> None:
    expected = responses_expectations({"tools": RESPONSES_TOOLS})
    assert check_responses(expected, responses_answer(*items)) == failure


def test_responses_text_format_json_schema() -> None:
    body = {"text": {"format": {"type": "json_schema", "name": "order", "schema": ORDER}}}
    expected = responses_expectations(body)
    assert check_responses(expected, responses_answer(text_item('{"order_id": "1"}'))) is None
    assert (
        check_responses(expected, responses_answer(text_item('{"order_id": 1}')))
        == "invalid structured output"
    )


def test_a_schema_that_does_not_compile_checks_only_the_json() -> None:
    broken = [{"type": "function", "function": {"name": "f", "parameters": {"type": "objekt"}}}]
    expected = chat_expectations({"tools": broken})
    assert check_tool_call(expected, "f", '{"x": 1}') is None
    assert check_tool_call(expected, "f", "{x") == "unparseable tool arguments"


@pytest.fixture
def counting_server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = json.dumps({"type": "integer"}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def test_a_remote_ref_is_never_fetched(counting_server: tuple[str, list[str]]) -> None:
    # A caller's schema must not make the router request a URL of the caller's choosing.
    url, hits = counting_server
    parameters = {"type": "object", "properties": {"n": {"$ref": f"{url}/n.json"}}}
    tools = [{"type": "function", "function": {"name": "f", "parameters": parameters}}]
    expected = chat_expectations({"tools": tools})
    assert check_tool_call(expected, "f", '{"n": "not checked"}') is None
    assert hits == []


def test_one_tool_list_is_compiled_once() -> None:
    first = chat_expectations({"tools": json.loads(json.dumps(TOOLS))})
    second = chat_expectations({"tools": json.loads(json.dumps(TOOLS))})
    assert first.functions["get_order"] is second.functions["get_order"]
