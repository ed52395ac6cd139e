"""The OpenAI wire format: the chat request as the router reads it, errors, SSE framing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

ROLES = ("system", "developer", "user", "assistant", "tool", "function")


class ApiError(Exception):
    """An error for the caller, rendered in OpenAI's envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}
        self.extra = extra or {}  # e.g. Azure's content-filter `innererror`, kept for the caller

    def body(self) -> dict[str, Any]:
        body = error_body(self.message, type=self.type, code=self.code, param=self.param)
        body["error"].update(self.extra)
        return body


def error_body(
    message: str, *, type: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "code": code, "param": param}}


class Message(BaseModel):
    # Extra fields (name, tool_calls, tool_call_id, ...) pass through to the model untouched.
    model_config = ConfigDict(extra="allow", strict=True)

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    include_usage: bool = False


class ChatRequest(BaseModel):
    """The fields the router reads; all others are kept in the raw body and forwarded."""

    model_config = ConfigDict(extra="allow", strict=True)

    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: int | None = Field(default=None, ge=1, le=128)
    tools: list[dict[str, Any]] | None = None
    user: str | None = None


def parse_chat_request(raw: bytes) -> tuple[ChatRequest, dict[str, Any]]:
    """Validate a chat-completions body: the typed view and the raw dict that is forwarded."""
    body = parse_json_object(raw)
    try:
        return ChatRequest.model_validate(body), body
    except ValidationError as exc:
        raise validation_error(exc) from None


def parse_json_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise ApiError(400, "The request body is empty; send a JSON object.", code="invalid_json")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(
            400, f"The request body is not valid JSON: {exc.args[0]}", code="invalid_json"
        ) from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.", code="invalid_json")
    return body


def validation_error(exc: ValidationError) -> ApiError:
    """The first problem pydantic found, named by its dotted path (OpenAI's `param`)."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    param = _param(first["loc"]) or None
    # A union (e.g. content: string | parts | null) reports one error per member: name them all.
    alternatives = [e["msg"] for e in errors if _param(e["loc"]) == param]
    kind = first["type"]
    if kind == "missing":
        message = f"Missing required parameter: '{param}'."
        code = "missing_required_parameter"
    elif kind == "too_short" and param == "messages":
        message = "'messages' must contain at least one message."
        code = "invalid_value"
    elif kind == "literal_error" and param and param.endswith(".role"):
        message = f"Invalid value for '{param}': must be one of {', '.join(ROLES)}."
        code = "invalid_value"
    else:
        message = f"Invalid value for '{param}': {' or '.join(dict.fromkeys(alternatives))}."
        code = "invalid_type" if kind.endswith("_type") else "invalid_value"
    return ApiError(400, message, code=code, param=param)


def _param(loc: tuple[int | str, ...]) -> str:
    # Union members add their type to the path ("str", "list[...]"); field names never look so.
    return ".".join(str(p) for p in loc if not (p == "str" or "[" in str(p)))


def last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """The text of the last user message: what the classifier judges and the cache keys on."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def sse_event(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"
