"""The Responses OpenAPI fragment and the parser read their rules from one place (request.py,
whose sampling bounds are chat's pydantic fields): what the document allows, the parser takes."""

from __future__ import annotations

import orjson
import pytest

from shared.api import ApiError, ChatRequest
from shared.responses.request import ROLES, SAMPLING, parse_responses_request
from shared.responses.schema import MESSAGE, request_schema


def parse(**body: object) -> None:
    parse_responses_request(orjson.dumps({"model": "auto", "input": "hi", **body}))


@pytest.mark.parametrize("name", ["temperature", "top_p"])
def test_sampling_bounds_are_chats_in_the_document_and_the_parser(name: str) -> None:
    low, high = SAMPLING[name]
    field = request_schema(("auto",))["properties"][name]
    assert (field["minimum"], field["maximum"]) == (low, high)
    chat = ChatRequest.model_validate(
        {"model": "auto", "messages": [{"role": "user", "content": "hi"}], name: high}
    )
    assert getattr(chat, name) == high
    parse(**{name: high})
    with pytest.raises(ApiError) as caught:
        parse(**{name: high + 0.1})
    assert caught.value.param == name


def test_roles_are_chats_but_tool() -> None:
    assert MESSAGE["properties"]["role"]["enum"] == list(ROLES)  # type: ignore[index]
    assert "tool" not in ROLES
    with pytest.raises(ApiError) as caught:
        parse(input=[{"role": "tool", "content": "x"}])
    assert caught.value.param == "input[0].role"
