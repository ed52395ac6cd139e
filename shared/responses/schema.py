"""The OpenAPI description of the Responses endpoints (merged into shared/openapi.py's document).

Its rules are request.py's (roles, the output-token range, the sampling bounds, which are chat's
own from shared/api.py's pydantic model), so the document and the parser cannot drift; the
shapes are written here, as the parser is hand-written rather than a pydantic model.

The request schema is the part of the Responses API that any tier can take with no stored state
(previous_response_id, store, tools and items beyond messages are in the API reference and the
README), so that everything valid by this schema is answered 200 and stored, and GET and DELETE
find what POST made (schemathesis checks both).
"""

from __future__ import annotations

from typing import Any

from shared.api import MAX_OUTPUT_TOKENS
from shared.responses.items import LIMIT_MAX, ORDERS
from shared.responses.request import MIN_OUTPUT_TOKENS, ROLES, SAMPLING

ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _json(ERROR, "An OpenAI-format error.") for code in codes}


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
MESSAGE = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {
        "type": {"const": "message"},
        "role": {"enum": list(ROLES)},
        "content": {"type": "string"},
    },
}


def request_schema(models: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["model", "input"],
        "additionalProperties": False,
        "properties": {
            "model": {"enum": list(models)},
            "input": {
                "oneOf": [
                    {"type": "string"},
                    {"type": "array", "minItems": 1, "items": MESSAGE},
                ]
            },
            # null is "not given", as OpenAI reads it.
            "instructions": {"type": ["string", "null"]},
            "stream": {"type": ["boolean", "null"]},
            "max_output_tokens": {
                "type": ["integer", "null"],
                "minimum": MIN_OUTPUT_TOKENS,
                "maximum": MAX_OUTPUT_TOKENS,
            },
            **{
                name: {"type": ["number", "null"], "minimum": low, "maximum": high}
                for name, (low, high) in SAMPLING.items()
            },
            "user": {"type": ["string", "null"]},
        },
    }


def paths(models: tuple[str, ...]) -> dict[str, Any]:
    stored = {
        "parameters": [
            {"name": "response_id", "in": "path", "required": True, "schema": {"type": "string"}}
        ]
    }
    body = {"required": True, "content": {"application/json": {"schema": request_schema(models)}}}
    return {
        "/v1/responses": {
            "post": {
                "operationId": "createResponse",
                "summary": "OpenAI Responses API, routed like chat completions; "
                "`previous_response_id` continues a stored response on any tier.",
                "requestBody": body,
                "responses": {
                    "200": {
                        "description": "A Response, or an SSE stream of response events.",
                        # What a stored response is called by: GET and DELETE take its id.
                        "links": {
                            op: {
                                "operationId": op,
                                "parameters": {"response_id": "$response.body#/id"},
                            }
                            for op in ("getResponse", "deleteResponse", "listInputItems")
                        },
                        "content": {
                            "application/json": {"schema": RESPONSE},
                            "text/event-stream": {
                                "schema": {
                                    "description": "Named response events (response.created "
                                    "... response.completed or response.failed).",
                                    "type": "object",
                                    "required": ["event", "data"],
                                    "properties": {
                                        "event": {"type": "string"},
                                        "data": {"type": "string"},
                                    },
                                }
                            },
                        },
                    },
                    **_errors(400, 401, 413, 429, 502, 503, 504),
                },
            }
        },
        "/v1/responses/{response_id}": {
            **stored,
            "get": {
                "operationId": "getResponse",
                "summary": "A stored response.",
                "responses": {"200": _json(RESPONSE, "The response."), **_errors(401, 404)},
            },
            "delete": {
                "operationId": "deleteResponse",
                "summary": "Delete a stored response.",
                "responses": {
                    "200": _json({"type": "object", "required": ["id", "deleted"]}, "Deleted."),
                    **_errors(401, 404),
                },
            },
        },
        "/v1/responses/{response_id}/input_items": {
            **stored,
            "get": {
                "operationId": "listInputItems",
                "summary": "The items a stored response was made from (its chain's too), "
                "newest first unless `order=asc`; a cursor page.",
                # `after` and `before` take an item id of this list (`last_id`, `first_id`); one
                # that names none is a 404. Described, not listed: a made-up id can only 404.
                "description": "Cursors: `after` and `before`, an item id of this list (the "
                "page's `last_id` or `first_id`); an id that names no item of it is a 404.",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX},
                    },
                    {"name": "order", "in": "query", "schema": {"enum": list(ORDERS)}},
                ],
                "responses": {
                    "200": _json(ITEM_LIST, "A page of input items."),
                    **_errors(400, 401),
                    "404": _json(ERROR, "No such response, or a cursor that names no item."),
                },
            },
        },
        "/v1/models/{model}": {
            "get": {
                "operationId": "retrieveModel",
                "summary": "`auto`, a tier or a deployment.",
                "parameters": [
                    {"name": "model", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": _json({"type": "object"}, "The model."), **_errors(401, 404)},
            }
        },
    }
