"""The OpenAI wire format: the chat request as the router reads it, errors, SSE framing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

import orjson
from annotated_types import Interval
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

if TYPE_CHECKING:  # the policy reads this module: the decision is named here for types only
    from shared.routing.policy import Decision

# A tool's answer is a message in chat completions, a function_call_output item in Responses.
InputRole = Literal["system", "developer", "user", "assistant"]
Role = Literal[InputRole, "tool"]
ROLES: tuple[Role, ...] = get_args(Role)
# The largest answer any supported model gives (GPT-5: 128k output tokens).
MAX_OUTPUT_TOKENS = 128_000
# The deepest body taken: orjson writes back at most WRITE_LIMIT levels (forwarding, storing,
# answering) and the router wraps parts of a request in a few more (translated tools, items).
MAX_DEPTH = 128
WRITE_LIMIT = 254


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
        # Why the request's tier was chosen, when the error came after the decision.
        self.decision: Decision | None = None

    def body(self) -> dict[str, Any]:
        body = error_body(self.message, type=self.type, code=self.code, param=self.param)
        body["error"].update(self.extra)
        return body


def error_body(
    message: str, *, type: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "code": code, "param": param}}


def _whole(value: Any) -> Any:
    # JSON has one number type: 80.0 is the integer 80 to every JSON Schema validator.
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Bounds inside the type, so that the JSON Schema of `X | None` carries them (minimum/maximum).
WHOLE = BeforeValidator(_whole)  # last in an Annotated: the bounds before it stay in the schema
OutputTokens = Annotated[int, Field(ge=1, le=MAX_OUTPUT_TOKENS), WHOLE]
# The sampling parameters' ranges: one meaning in both APIs, whose requests take these types.
SAMPLING = {"temperature": Interval(ge=0, le=2), "top_p": Interval(ge=0, le=1)}
Temperature = Annotated[float, SAMPLING["temperature"]]
TopP = Annotated[float, SAMPLING["top_p"]]
Choices = Annotated[int, Field(ge=1, le=128), WHOLE]
INTEGER_FIELDS = ("n", "max_tokens", "max_completion_tokens")


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    type: str
    text: str | None = None


# OpenAI's rules across a message's fields, as JSON Schema for the OpenAPI document (which is
# derived from these models); `check_message` enforces the same two rules on every request.
MESSAGE_RULES: dict[str, Any] = {
    "allOf": [
        {  # content may be missing or null only on an assistant message that calls tools
            "if": {
                "required": ["role", "tool_calls"],
                "properties": {
                    "role": {"const": "assistant"},
                    "tool_calls": {"type": "array", "minItems": 1},
                },
            },
            "else": {"required": ["content"], "properties": {"content": {"not": {"type": "null"}}}},
        },
        {  # a tool result names the call it answers
            "if": {"required": ["role"], "properties": {"role": {"const": "tool"}}},
            "then": {
                "required": ["tool_call_id"],
                "properties": {"tool_call_id": {"type": "string"}},
            },
        },
    ]
}
# As OpenAI: stream_options only with stream: true (checked in parse_chat_request).
STREAM_OPTIONS_RULE: dict[str, Any] = {
    "if": {"required": ["stream_options"], "properties": {"stream_options": {"type": "object"}}},
    "then": {"required": ["stream"], "properties": {"stream": {"const": True}}},
}


class Message(BaseModel):
    # Extra fields (name, ...) pass through to the model untouched.
    model_config = ConfigDict(extra="allow", strict=True, json_schema_extra=MESSAGE_RULES)

    role: Role
    content: str | list[ContentPart] | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class ToolFunction(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    name: str


class Tool(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    type: Literal["function"] = "function"
    function: ToolFunction


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    include_usage: bool = False


class ChatRequest(BaseModel):
    """The fields the router reads; all others are kept in the raw body and forwarded."""

    model_config = ConfigDict(extra="allow", strict=True, json_schema_extra=STREAM_OPTIONS_RULE)

    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    max_tokens: OutputTokens | None = None
    max_completion_tokens: OutputTokens | None = None
    n: Choices | None = None
    tools: list[Tool] | None = None
    user: str | None = None


def parse_chat_request(raw: bytes) -> tuple[ChatRequest, dict[str, Any]]:
    """Validate a chat-completions body: the typed view and the raw dict that is forwarded."""
    return chat_request(parse_json_object(raw))


def chat_request(body: dict[str, Any]) -> tuple[ChatRequest, dict[str, Any]]:
    """`parse_chat_request` of a body already read as a JSON object."""
    try:
        chat = ChatRequest.model_validate(body)
    except ValidationError as exc:
        raise validation_error(exc) from None
    for index, message in enumerate(chat.messages):
        check_message(message, ("messages", index))
    for name in INTEGER_FIELDS:  # forward 80.0 as 80: some deployments insist on integers
        if isinstance(body.get(name), float):
            body[name] = getattr(chat, name)
    if chat.stream_options is not None and not chat.stream:
        raise ApiError(
            400,
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            code="invalid_value",
            param="stream_options",
        )
    return chat, body


def check_message(message: Message, where: tuple[str, int]) -> None:
    """OpenAI's rules across fields: only an assistant's tool call may come without content."""
    if message.content is None and not (message.role == "assistant" and message.tool_calls):
        raise missing(param_path([*where, "content"]))
    if message.role == "tool" and message.tool_call_id is None:
        raise missing(param_path([*where, "tool_call_id"]))


# What a caller reads when the router itself breaks while relaying a stream (either API).
RELAY_FAILED = "The router failed while relaying the answer."


def deployment_stream_failed(what: str) -> str:
    """What a caller reads when the model deployment's stream broke (`what`: how)."""
    return f"The model deployment stream failed ({what})."


def missing(param: str) -> ApiError:
    return ApiError(
        400,
        f"Missing required parameter: '{param}'.",
        code="missing_required_parameter",
        param=param,
    )


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
    # Fewer brackets than the limit cannot nest deeper (the usual body): then no check.
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _too_deep(body):
        raise ApiError(
            400,
            f"The request body nests objects and arrays more than {MAX_DEPTH} levels deep.",
            code="invalid_json",
        )
    return body


def _too_deep(body: dict[str, Any]) -> bool:
    """Whether orjson could not write the body back inside WRITE_LIMIT - MAX_DEPTH wrappers:
    asked of orjson itself, at C speed (a walk in Python costs more than the parse)."""
    wrapped: Any = body
    for _ in range(WRITE_LIMIT - MAX_DEPTH):
        wrapped = [wrapped]
    try:
        orjson.dumps(wrapped)
    except orjson.JSONEncodeError:  # "Recursion limit reached": all else loads gave, it writes
        return True
    return False


def param_path(parts: Iterable[int | str]) -> str:
    """A field of a request as OpenAI's errors name it, in `param` and in the message: keys
    joined by dots, list positions in brackets, e.g. its "Missing required parameter:
    'messages[2].tool_calls[0].type'" for chat and `input[2].content[0]` for Responses."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def validation_error(exc: ValidationError) -> ApiError:
    """The first problem pydantic found, named by its path (OpenAI's `param`)."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    param = _param(first["loc"]) or None
    # A union (e.g. content: string | parts | null) reports one error per member: name them all.
    alternatives = [e["msg"] for e in errors if _param(e["loc"]) == param]
    kind = first["type"]
    if kind == "missing":
        return missing(param or "")
    if kind == "too_short" and param == "messages":
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
    return param_path(p for p in loc if not (p == "str" or "[" in str(p)))


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
