"""The OpenAPI document of the router's endpoints, served at /api/openapi.json."""

from __future__ import annotations

from functools import cache
from typing import Any

from shared.api import MAX_OUTPUT_TOKENS
from shared.responses import schema as responses_schema

ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _json(ERROR, "An OpenAI-format error.") for code in codes}


@cache
def document(models: tuple[str, ...]) -> dict[str, Any]:
    """The document for a router that accepts these `model` values."""
    chat_request = {"$ref": "#/components/schemas/ChatRequest"}
    chat_body = {"required": True, "content": {"application/json": {"schema": chat_request}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hybrid-router",
            "version": "0.1.0",
            "description": "OpenAI-compatible chat completions routed between model tiers.",
        },
        "servers": [{"url": "/api"}],
        "security": [{"functionKey": []}],
        "paths": {
            "/v1/chat/completions": {
                "post": {
                    "operationId": "createChatCompletion",
                    "summary": "Chat completion, routed (`model: auto`) or pinned to a tier.",
                    "requestBody": chat_body,
                    "responses": {
                        "200": {
                            "description": "A chat completion, or an SSE stream when `stream`.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/ChatCompletion"}
                                },
                                "text/event-stream": {
                                    "schema": {
                                        "description": "Each event's data is a "
                                        "chat.completion.chunk; the last is [DONE].",
                                        "type": "object",
                                        "required": ["data"],
                                        "properties": {"data": {"type": "string"}},
                                    }
                                },
                            },
                        },
                        **_errors(400, 401, 404, 413, 429, 502, 503, 504),
                    },
                }
            },
            "/v1/models": {
                "get": {
                    "operationId": "listModels",
                    "summary": "The tiers and `auto`.",
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/ModelList"}, "The list."),
                        **_errors(401),
                    },
                }
            },
            "/route": {
                "post": {
                    "operationId": "route",
                    "summary": "The routing decision alone, without calling the chosen model.",
                    "requestBody": chat_body,
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Decision"}, "The decision."),
                        **_errors(400, 401, 413),
                    },
                }
            },
            "/health": {
                "get": {
                    "operationId": "health",
                    "summary": "Liveness and a configuration summary without secrets.",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "Healthy.")},
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document.",
                    "responses": {
                        "200": _json({"type": "object"}, "OpenAPI 3.1."),
                        **_errors(401),
                    },
                }
            },
            **responses_schema.paths(models),
        },
        "components": {
            "securitySchemes": {
                "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"}
            },
            "schemas": {**SCHEMAS, "ChatRequest": chat_request_schema(models)},
        },
    }


def _optional(schema: dict[str, Any]) -> dict[str, Any]:
    """Optional fields also accept null, as OpenAI's do."""
    return {"anyOf": [schema, {"type": "null"}]}


CONTENT = {
    "anyOf": [
        {"type": "string"},
        {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"type": "string"}, "text": _optional({"type": "string"})},
            },
        },
    ]
}
# OpenAI's rules: content is required, except on an assistant message that calls tools.
MESSAGE = {
    "oneOf": [
        {
            "type": "object",
            "required": ["role", "content"],
            "properties": {"role": {"enum": ["system", "developer", "user"]}, "content": CONTENT},
        },
        {
            "type": "object",
            "required": ["role", "content"],
            "properties": {"role": {"const": "assistant"}, "content": CONTENT},
        },
        {
            "type": "object",
            "required": ["role", "tool_calls"],
            "properties": {
                "role": {"const": "assistant"},
                "content": {"type": "null"},
                "tool_calls": {"type": "array", "minItems": 1, "items": {"type": "object"}},
            },
        },
        {
            "type": "object",
            "required": ["role", "content", "tool_call_id"],
            "properties": {
                "role": {"const": "tool"},
                "content": CONTENT,
                "tool_call_id": {"type": "string"},
            },
        },
    ]
}


OUTPUT_TOKENS = {"type": "integer", "minimum": 1, "maximum": MAX_OUTPUT_TOKENS}
TOOL = {
    "type": "object",
    "required": ["function"],
    "properties": {
        "type": {"const": "function"},
        "function": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}},
        },
    },
}


def chat_request_schema(models: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["model", "messages"],
        "properties": {
            "model": {"enum": list(models), "description": "auto, a tier or a deployment"},
            "messages": {"type": "array", "minItems": 1, "items": MESSAGE},
            "stream": _optional({"type": "boolean"}),
            "stream_options": _optional(
                {"type": "object", "properties": {"include_usage": {"type": "boolean"}}}
            ),
            "temperature": _optional({"type": "number", "minimum": 0, "maximum": 2}),
            "top_p": _optional({"type": "number", "minimum": 0, "maximum": 1}),
            "max_tokens": _optional(OUTPUT_TOKENS),
            "max_completion_tokens": _optional(OUTPUT_TOKENS),
            "n": _optional({"type": "integer", "minimum": 1, "maximum": 128}),
            "tools": _optional({"type": "array", "items": TOOL}),
            "user": _optional({"type": "string"}),
        },
        # As OpenAI: stream_options only with stream: true.
        "if": {
            "required": ["stream_options"],
            "properties": {"stream_options": {"type": "object"}},
        },
        "then": {"required": ["stream"], "properties": {"stream": {"const": True}}},
    }


SCHEMAS: dict[str, Any] = {
    "ChatCompletion": {
        "type": "object",
        "required": ["id", "object", "model", "choices"],
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "chat.completion"},
            "created": {"type": "integer"},
            "model": {"type": "string", "description": "The deployment that answered."},
            "choices": {"type": "array", "items": {"type": "object"}},
            "usage": {"type": "object"},
        },
    },
    "ModelList": {
        "type": "object",
        "required": ["object", "data"],
        "properties": {
            "object": {"const": "list"},
            "data": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "object"],
                    "properties": {"id": {"type": "string"}, "object": {"const": "model"}},
                },
            },
        },
    },
    "Decision": {
        "type": "object",
        "required": ["tier", "deployment", "reason", "decided_by"],
        "properties": {
            "tier": {"type": "string"},
            "deployment": {"type": "string"},
            "reason": {"type": "string"},
            "decided_by": {"enum": ["pin", "session", "scorer", "classifier", "cache", "default"]},
            "score": {"type": ["number", "null"]},
            "classifier_ms": {"type": ["number", "null"]},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message", "type"],
                "properties": {
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                    "code": {"type": ["string", "null"]},
                    "param": {"type": ["string", "null"]},
                },
            }
        },
    },
}
