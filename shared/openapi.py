"""The OpenAPI document of the router's endpoints, served at /api/openapi.json."""

from __future__ import annotations

from functools import cache
from typing import Any, get_args

from shared.api import ChatRequest
from shared.responses import schema as responses_schema
from shared.routing.policy import DecidedBy

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
            "/v1/info": {
                "get": {
                    "operationId": "getModelInfo",
                    "summary": "The router as one model (azure-ai-inference's get_model_info()).",
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/ModelInfo"}, "The router."),
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
                    "summary": "Liveness: whether the app is up, nothing more.",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "Healthy.")},
                }
            },
            "/health/details": {
                "get": {
                    "operationId": "healthDetails",
                    "summary": "The configuration without secrets, each deployment's breaker, "
                    "cooldown and token window.",
                    "responses": {
                        "200": _json({"type": "object"}, "Healthy."),
                        **_errors(401),
                    },
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
            "schemas": {**SCHEMAS, **request_schemas(models)},
        },
    }


def request_schemas(models: tuple[str, ...]) -> dict[str, Any]:
    """ChatRequest and the schemas it uses, derived from the pydantic models in shared/api.py
    (their fields, Literals, bounds and cross-field rules); only `model` is narrowed here, to
    the values this router accepts."""
    schema = ChatRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    used = schema.pop("$defs")
    schema["properties"]["model"] = {
        "enum": list(models),
        "description": "auto, a tier or a deployment",
    }
    return {**used, "ChatRequest": schema}


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
    "ModelInfo": {
        "type": "object",
        "required": ["model_name", "model_type", "model_provider_name"],
        "properties": {
            "model_name": {"type": "string"},
            "model_type": {"const": "chat-completion"},
            "model_provider_name": {"type": "string"},
        },
    },
    "Decision": {
        "type": "object",
        "required": ["tier", "deployment", "reason", "decided_by"],
        "properties": {
            "tier": {"type": "string"},
            "deployment": {"type": "string"},
            "reason": {"type": "string"},
            "decided_by": {"enum": list(get_args(DecidedBy))},
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
