"""What a held stream has said: text releases it, a tool call is held to its finish and put
together for the guard (shared/upstream/hold.py)."""

from __future__ import annotations

from typing import Any

from shared import guard
from shared.upstream.hold import ChatTurn, ResponsesTurn, turn_for
from tests.order_tool import ORDER_TOOL

TOOLS = [ORDER_TOOL]
EXPECTED = guard.chat_expectations({"tools": TOOLS})


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def call_delta(name: str | None, arguments: str) -> dict[str, Any]:
    function = {"arguments": arguments} if name is None else {"name": name, "arguments": arguments}
    return {"tool_calls": [{"index": 0, "id": "c", "type": "function", "function": function}]}


def test_text_releases_the_stream_at_once() -> None:
    turn = ChatTurn()
    assert turn.see(chunk({"role": "assistant", "content": ""}), False) == "hold"
    assert turn.see(chunk({"content": "Hello"}), False) == "release"


def test_a_tool_call_is_held_to_its_finish_and_put_together() -> None:
    turn = ChatTurn()
    events = [
        chunk({"role": "assistant", "content": ""}),
        chunk(call_delta("get_order", '{"order')),
        chunk(call_delta(None, '_id": "1182"}')),
    ]
    assert [turn.see(e, False) for e in events] == ["hold", "hold", "hold"]
    assert turn.see(chunk({}, "tool_calls"), False) == "check"
    assert guard.check_chat(EXPECTED, turn.answer()) is None


def test_a_held_call_that_breaks_its_schema_is_caught() -> None:
    turn = ChatTurn()
    turn.see(chunk(call_delta("get_order", "{}")), False)
    assert turn.see(chunk({}, "tool_calls"), False) == "check"
    assert guard.check_chat(EXPECTED, turn.answer()) == "invalid tool arguments"


def test_a_stream_that_says_nothing_is_an_empty_answer() -> None:
    turn = ChatTurn()
    assert turn.see(chunk({"role": "assistant", "content": ""}), False) == "hold"
    assert turn.see(chunk({}, "stop"), False) == "check"
    assert guard.check_chat(EXPECTED, turn.answer()) == "empty answer"


def test_a_malformed_event_is_left_to_the_relay() -> None:
    assert ChatTurn().see(None, False) == "release"
    assert ChatTurn().see(None, True) == "check"


def test_responses_events() -> None:
    turn = turn_for("responses")
    assert isinstance(turn, ResponsesTurn)
    assert turn.see({"type": "response.created", "response": {}}, False) == "hold"
    assert turn.see({"type": "response.output_text.delta", "delta": "Hi"}, False) == "release"
    held = ResponsesTurn()
    item = {"type": "function_call", "name": "nope", "arguments": "{}"}
    assert held.see({"type": "response.output_item.added", "item": item}, False) == "hold"
    completed = {"type": "response.completed", "response": {"output": [item]}}
    assert held.see(completed, False) == "check"
    expected = guard.responses_expectations({"tools": [{"type": "function", "name": "get_order"}]})
    assert guard.check_responses(expected, held.answer()) == "unknown function"
