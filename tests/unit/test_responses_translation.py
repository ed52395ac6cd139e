"""Responses <-> chat completions, pure: the request both ways, the object, the event stream as
openai-python's own stream accumulator reads it."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from openai import omit
from openai._models import construct_type_unchecked
from openai.lib.streaming.responses._responses import ResponseStreamState
from openai.types.responses import Response, ResponseStreamEvent

from shared.api import ApiError
from shared.responses.events import ChatToResponses
from shared.responses.objects import response_from_chat
from shared.responses.request import parse_responses_request
from shared.responses.to_chat import check_calls, to_chat
from shared.settings import Tier

SMALL = Tier("small", "Phi-4-mini", "http://x")
LARGE = Tier("large", "gpt-5", "http://x", capabilities=frozenset({"reasoning"}))
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def request(**body: Any) -> Any:
    return parse_responses_request(orjson.dumps({"model": "auto", **body}))


def test_a_tool_loop_becomes_chat_messages_with_tools() -> None:
    req = request(
        instructions="Be brief.",
        input=[
            {"role": "user", "content": [{"type": "input_text", "text": "Weather in Oslo?"}]},
            {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
            {"type": "function_call", "call_id": "c2", "name": "get_weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "rain"},
            {
                "type": "function_call_output",
                "call_id": "c2",
                "output": [{"type": "input_text", "text": "sun"}],
            },
        ],
        tools=[WEATHER],
        tool_choice={"type": "function", "name": "get_weather"},
        text={"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}}},
        max_output_tokens=100,
        reasoning={"effort": "low"},
    )
    chat = to_chat(req, req.items, SMALL)
    messages = chat.body["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "tool"]
    assert messages[1]["content"] == "Weather in Oslo?"
    assert [c["id"] for c in messages[2]["tool_calls"]] == ["c1", "c2"]
    assert messages[4] == {"role": "tool", "tool_call_id": "c2", "content": "sun"}
    assert chat.body["tools"][0]["function"]["name"] == "get_weather"
    assert chat.body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert chat.body["response_format"]["json_schema"]["name"] == "w"
    assert chat.body["max_completion_tokens"] == 100
    assert "reasoning_effort" not in chat.body
    assert chat.changes == ("dropped reasoning (not a reasoning model)",)
    assert to_chat(req, req.items, LARGE).body["reasoning_effort"] == "low"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (
            {"input": [{"type": "function_call_output", "call_id": "x", "output": "1"}]},
            "input[0].call_id",
        ),
        ({"input": [{"type": "web_search_call", "id": "1"}]}, "input[0].type"),
        ({"input": [{"role": "robot", "content": "hi"}]}, "input[0].role"),
        ({"input": [{"role": "user"}]}, "input[0].content"),
        ({"input": 5}, "input"),
        ({"input": "hi", "temperature": 3}, "temperature"),
        ({"input": "hi", "frobnicate": True}, "frobnicate"),
        ({"input": "hi", "stream": "yes"}, "stream"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(body: dict[str, Any], param: str) -> None:
    def parse_and_check() -> None:
        check_calls(request(**body).items)

    with pytest.raises(ApiError) as caught:
        parse_and_check()
    assert caught.value.status == 400
    assert caught.value.param == param


def test_a_chat_completion_becomes_a_response_the_sdk_parses() -> None:
    req = request(input="hi", tools=[WEATHER])
    completion = {
        "created": 1,
        "choices": [
            {
                "finish_reason": "tool_calls",
                "message": {
                    "content": "Checking.",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                        }
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
    }
    parsed = Response.model_validate(response_from_chat(req, "resp_1", completion, "Phi-4-mini"))
    assert parsed.output_text == "Checking."
    assert parsed.output[1].type == "function_call"
    assert parsed.output[1].call_id == "call_1"
    assert parsed.usage is not None
    assert (parsed.usage.input_tokens, parsed.usage.output_tokens) == (5, 7)


def replay(events: list[bytes]) -> tuple[list[str], ResponseStreamState[Any]]:
    state: ResponseStreamState[Any] = ResponseStreamState(input_tools=[WEATHER], text_format=omit)  # type: ignore[arg-type]
    kinds = []
    for raw in events:
        data = orjson.loads(raw.split(b"data: ", 1)[1])
        event = construct_type_unchecked(type_=ResponseStreamEvent, value=data)  # type: ignore[arg-type]
        state.handle_event(event)
        kinds.append(data["type"])
    return kinds, state


def chunks(*deltas: dict[str, Any], finish: str = "stop") -> list[dict[str, Any]]:
    out = [{"choices": [{"index": 0, "delta": d}]} for d in deltas]
    out.append({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    out.append({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}})
    return out


def test_text_then_tool_call_stream_in_openai_order() -> None:
    stream = ChatToResponses(request(input="hi"), "resp_1", "Phi-4-mini", 1)
    events = stream.start()
    for chunk in chunks(
        {"content": "Let me "},
        {"content": "check."},
        {
            "tool_calls": [
                {"index": 0, "id": "call_1", "function": {"name": "get_weather", "arguments": ""}}
            ]
        },
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": '"Oslo"}'}}]},
        finish="tool_calls",
    ):
        events += stream.chunk(chunk)
    events += [*stream.finish(), stream.final_event()]
    kinds, state = replay(events)
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    final = state._completed_response
    assert final is not None
    assert final.output_text == "Let me check."
    assert final.output[1].arguments == '{"city":"Oslo"}'  # type: ignore[union-attr]
    assert final.usage is not None
    assert final.usage.output_tokens == 4
    sequence = [orjson.loads(e.split(b"data: ", 1)[1])["sequence_number"] for e in events]
    assert sequence == list(range(len(events)))


def test_a_cut_stream_fails_and_never_completes() -> None:
    stream = ChatToResponses(request(input="hi"), "resp_1", "Phi-4-mini", 1)
    events = stream.start() + stream.chunk({"choices": [{"index": 0, "delta": {"content": "Hal"}}]})
    events += stream.fail("The model deployment ended the stream before the answer.")
    kinds, state = replay(events)
    assert kinds[-1] == "response.failed"
    assert "response.completed" not in kinds
    assert state._completed_response is None


def test_length_limit_is_incomplete() -> None:
    stream = ChatToResponses(request(input="hi"), "resp_1", "Phi-4-mini", 1)
    events = stream.start()
    for chunk in chunks({"content": "long"}, finish="length"):
        events += stream.chunk(chunk)
    events += [*stream.finish(), stream.final_event()]
    assert replay(events)[0][-1] == "response.incomplete"
    assert stream.final is not None
    assert stream.final["incomplete_details"] == {"reason": "max_output_tokens"}
