"""The Responses API's shapes in the OpenAPI document (shared/openapi.py lays out the paths).

The request is derived from the types request.py validates with, as chat's is from shared/api.py's
model: its fields' types, nullability, roles and bounds are the parser's own. It is the part of the
Responses API that any tier can take with no stored state (previous_response_id, store, tools
and items beyond text messages are in the API reference and the README), so that everything
valid by it is answered 200 and stored, and GET and DELETE find what POST made (schemathesis
checks both).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model, with_config

from shared.responses.request import OPEN, Message, Model, RequestBody

# The request's fields that need no stored state and no particular tier.
STATELESS = (
    "model",
    "input",
    "instructions",
    "stream",
    "max_output_tokens",
    "temperature",
    "top_p",
    "user",
)
REQUIRED = ("model", "input")


@with_config(OPEN)
class TextMessage(Message):
    """An input message whose content is text."""

    content: str


@cache
def request_model() -> type[BaseModel]:
    """POST /v1/responses's body as the document describes it: the parser's fields that need
    no stored state, `input` as text messages."""
    types = get_type_hints(RequestBody, include_extras=True)
    types["model"] = Model  # required here, by REQUIRED
    types["input"] = str | Annotated[list[TextMessage], Field(min_length=1)]
    fields: dict[str, Any] = {
        name: (types[name], ... if name in REQUIRED else None) for name in STATELESS
    }
    config = ConfigDict(extra="forbid", strict=True)
    return create_model("ResponsesRequest", __config__=config, **fields)


RESPONSE = {
    "type": "object",
    "required": ["id", "object", "created_at", "status", "model", "output"],
    "properties": {
        "id": {"type": "string"},
        "object": {"const": "response"},
        "created_at": {"type": "integer"},
        "status": {"enum": ["completed", "incomplete", "failed", "in_progress"]},
        "model": {"type": "string"},
        "output": {"type": "array", "items": {"type": "object"}},
        "usage": {"type": ["object", "null"]},
    },
}
ITEM_LIST = {
    "type": "object",
    "required": ["object", "data", "first_id", "last_id", "has_more"],
    "properties": {
        "object": {"const": "list"},
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "type"],
                "properties": {"id": {"type": "string"}, "type": {"type": "string"}},
            },
        },
        "first_id": {"type": ["string", "null"]},
        "last_id": {"type": ["string", "null"]},
        "has_more": {"type": "boolean"},
    },
}
