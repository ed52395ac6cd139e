"""The OpenAPI document of the router's endpoints, served at /api/openapi.json."""

from __future__ import annotations

from functools import cache
from typing import Any, get_args

from pydantic import BaseModel

from shared.api import ChatRequest
from shared.edge import FUNCTION_KEY_HEADER, FUNCTION_KEY_QUERY
from shared.responses import schema as responses
from shared.responses.items import LIMIT_MAX, ORDERS
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
    responses_request = {"$ref": "#/components/schemas/ResponsesRequest"}
    # a body with `messages` is read as chat completions, else as Responses (with `input`)
    either = {"anyOf": [chat_request, responses_request]}
    route_body = {"required": True, "content": {"application/json": {"schema": either}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hybrid-router",
            "version": "0.1.0",
            "description": "OpenAI-compatible chat completions and Responses, routed between "
            "model tiers.",
        },
        "servers": [{"url": "/api"}],
        "security": [{"functionKey": []}, {"functionKeyQuery": []}],  # either one
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
                    "summary": "The routing decision alone, without calling the chosen model, "
                    "for a chat completions or a Responses body.",
                    "requestBody": route_body,
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
            **RESPONSES_PATHS,
        },
        "components": {
            "securitySchemes": {
                "functionKey": {"type": "apiKey", "in": "header", "name": FUNCTION_KEY_HEADER},
                "functionKeyQuery": {"type": "apiKey", "in": "query", "name": FUNCTION_KEY_QUERY},
            },
            "schemas": {**SCHEMAS, **request_schemas(models)},
        },
    }


def request_schemas(models: tuple[str, ...]) -> dict[str, Any]:
    """Both APIs' request bodies, each with the schemas it uses."""
    return {**_derived(ChatRequest, models), **_derived(responses.request_model(), models)}


def _derived(request: type[BaseModel], models: tuple[str, ...]) -> dict[str, Any]:
    """A request's schema derived from its pydantic model (fields, Literals, bounds and
    cross-field rules); only `model` is narrowed here, to the values this router accepts."""
    schema = request.model_json_schema(ref_template="#/components/schemas/{model}")
    used = schema.pop("$defs", {})
    schema["properties"]["model"] = {
        "enum": list(models),
        "description": "auto, a tier or a deployment",
    }
    return {**used, request.__name__: schema}


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

STORED = {
    "parameters": [
        {"name": "response_id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
}
RESPONSES_PATHS: dict[str, Any] = {
    "/v1/responses": {
        "post": {
            "operationId": "createResponse",
            "summary": "OpenAI Responses API, routed like chat completions; "
            "`previous_response_id` continues a stored response on any tier.",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/ResponsesRequest"}
                    }
                },
            },
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
                        "application/json": {"schema": responses.RESPONSE},
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
        **STORED,
        "get": {
            "operationId": "getResponse",
            "summary": "A stored response.",
            "responses": {"200": _json(responses.RESPONSE, "The response."), **_errors(401, 404)},
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
        **STORED,
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
                "200": _json(responses.ITEM_LIST, "A page of input items."),
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
