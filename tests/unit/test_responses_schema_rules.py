"""The OpenAPI document's Responses request and the parser agree: what the document allows, the
parser takes; at every bound the document draws, the parser draws the same one. The document
offers less than the parser takes on purpose (only what any tier answers with no stored
state): those rows say so."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator

from shared.api import ApiError, ChatRequest
from shared.openapi import document
from shared.responses.request import ROLES, parse_responses_request

DOCUMENT = document(("auto",))
REQUEST = Draft202012Validator(
    {"$ref": "#/components/schemas/ResponsesRequest", "components": DOCUMENT["components"]}
)


def parsed(body: dict[str, Any]) -> str | None:
    """None when the parser takes the body, else the `param` it names."""
    try:
        parse_responses_request(orjson.dumps(body))
    except ApiError as error:
        return error.param
    return None


def ask(**fields: Any) -> dict[str, Any]:
    return {"model": "auto", "input": "hi", **fields}


def message(role: str, content: Any = "hi") -> dict[str, Any]:
    return {"role": role, "content": content}


@pytest.mark.parametrize(
    "body",
    [
        ask(),
        ask(input=[message("user")]),
        *(ask(input=[{"type": "message", **message(role)}]) for role in ROLES),
        ask(temperature=0, top_p=0),
        ask(temperature=2, top_p=1),
        ask(temperature=1.5, top_p=0.5, max_output_tokens=16),
        ask(max_output_tokens=128_000, instructions="Be brief.", user="u1"),
        ask(temperature=None, top_p=None, max_output_tokens=None, instructions=None),
        ask(stream=None, user=None),
        ask(input=[{**message("user"), "name": "extra fields pass through"}]),
    ],
)
def test_what_the_document_allows_the_parser_takes(body: dict[str, Any]) -> None:
    assert REQUEST.is_valid(body)
    assert parsed(body) is None


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (ask(temperature=-0.1), "temperature"),
        (ask(temperature=2.1), "temperature"),
        (ask(top_p=-0.1), "top_p"),
        (ask(top_p=1.1), "top_p"),
        (ask(max_output_tokens=15), "max_output_tokens"),
        (ask(max_output_tokens=128_001), "max_output_tokens"),
        (ask(max_output_tokens=16.5), "max_output_tokens"),
        (ask(temperature="1"), "temperature"),
        (ask(stream="yes"), "stream"),
        (ask(instructions=5), "instructions"),
        (ask(user=5), "user"),
        (ask(input=[message("tool")]), "input[0].role"),
        (ask(input=[message("user", 5)]), "input[0].content"),
        (ask(input=5), "input"),
        (ask(made_up=1), "made_up"),
        ({"input": "hi"}, "model"),
        ({"model": "auto"}, "input"),
        # nothing to answer: OpenAI refuses it too, instructions or not
        (ask(input=[], instructions="Be brief."), "input"),
    ],
)
def test_what_the_document_refuses_at_its_bounds_the_parser_refuses(
    body: dict[str, Any], param: str
) -> None:
    assert not REQUEST.is_valid(body)
    assert parsed(body) == param


@pytest.mark.parametrize(
    "body",
    [
        ask(input=[message("user", [{"type": "input_text", "text": "hi"}])]),
        ask(input=[{"type": "reasoning", "summary": []}]),
        ask(tools=[{"type": "function", "name": "f"}], store=False, metadata={"k": "v"}),
    ],
)
def test_the_parser_takes_more_than_the_document_offers(body: dict[str, Any]) -> None:
    assert not REQUEST.is_valid(body)
    assert parsed(body) is None


def test_an_empty_input_continues_a_stored_response() -> None:
    assert parsed(ask(input=[], previous_response_id="resp_1")) is None


@pytest.mark.parametrize(("name", "low", "high"), [("temperature", 0, 2), ("top_p", 0, 1)])
def test_sampling_bounds_are_chats(name: str, low: float, high: float) -> None:
    chat = DOCUMENT["components"]["schemas"]["ChatRequest"]["properties"][name]
    responses = DOCUMENT["components"]["schemas"]["ResponsesRequest"]["properties"][name]
    assert chat == responses
    assert chat["anyOf"][0] == {"type": "number", "minimum": low, "maximum": high}
    messages = [message("user")]
    assert ChatRequest.model_validate({"model": "auto", "messages": messages, name: high})
    assert parsed(ask(**{name: high})) is None
    assert parsed(ask(**{name: high + 0.1})) == name
