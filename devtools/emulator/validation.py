"""Request-body checks, enough to answer the 400s Azure OpenAI gives for common mistakes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devtools.emulator import errors

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a decimal",
    bool: "a boolean",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


@dataclass(frozen=True)
class ChatParams:
    """The parts of a valid body the emulator acts on."""

    stream: bool
    include_usage: bool
    max_tokens: int | None
    n: int
    temperature: float | None
    top_p: float | None


def _kind(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), "an unsupported type")


def _type_error(param: str, expected: str, value: Any) -> errors.ApiError:
    return errors.invalid_request(
        f"Invalid type for '{param}': expected {expected}, but got {_kind(value)} instead.",
        param=param,
        code="invalid_type",
    )


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _type_error(name, "a decimal", value)
    if not low <= value <= high:
        raise errors.invalid_request(
            f"Invalid '{name}': expected a value between {low:g} and {high:g}, but got {value}.",
            param=name,
            code="invalid_value",
        )
    return float(value)


def _positive_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(name, "an integer", value)
    if value < 1:
        raise errors.invalid_request(
            f"Invalid '{name}': integer below minimum value. Expected a value >= 1, but got "
            f"{value} instead.",
            param=name,
            code="integer_below_min_value",
        )
    return value


def _check_message(index: int, m: Any) -> None:
    where = f"messages[{index}]"
    if not isinstance(m, dict):
        raise _type_error(where, "an object", m)
    role = m.get("role")
    if role is None:
        raise errors.invalid_request(
            f"Missing required parameter: '{where}.role'.",
            param=f"{where}.role",
            code="missing_required_parameter",
        )
    if role not in ROLES:
        raise errors.invalid_request(
            f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', "
            "'function', 'tool', and 'developer'.",
            param=f"{where}.role",
            code="invalid_value",
        )
    content = m.get("content")
    if content is None:
        if role == "assistant" and (m.get("tool_calls") or m.get("function_call")):
            return
        raise errors.invalid_request(
            f"Missing required parameter: '{where}.content'.",
            param=f"{where}.content",
            code="missing_required_parameter",
        )
    if isinstance(content, list):
        for j, part in enumerate(content):
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise _type_error(f"{where}.content[{j}]", "an object with a type", part)
            if part["type"] == "text" and not isinstance(part.get("text"), str):
                raise _type_error(f"{where}.content[{j}].text", "a string", part.get("text"))
    elif not isinstance(content, str):
        raise _type_error(f"{where}.content", "one of a string or array of objects", content)
    if role == "tool" and not isinstance(m.get("tool_call_id"), str):
        raise errors.invalid_request(
            f"Missing required parameter: '{where}.tool_call_id'.",
            param=f"{where}.tool_call_id",
            code="missing_required_parameter",
        )


def _check_tools(tools: Any) -> None:
    if not isinstance(tools, list):
        raise _type_error("tools", "an array of objects", tools)
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise errors.invalid_request(
                f"Missing required parameter: 'tools[{i}].function.name'.",
                param=f"tools[{i}].function.name",
                code="missing_required_parameter",
            )


def asks_for_tools(body: dict[str, Any]) -> bool:
    """Whether the request wants the model to call tools: tools it may use, or a `tool_choice`
    other than "none" (with "none" the tools are only context, no call can come back)."""
    choice = body.get("tool_choice")
    if choice is not None and choice != "none":
        return True
    return bool(body.get("tools")) and choice != "none"


def validate(body: Any) -> ChatParams:
    """Raise ApiError(400) for a body Azure would reject; else the parameters that matter."""
    if not isinstance(body, dict):
        raise errors.invalid_request(
            f"Invalid type for body: expected an object, but got {_kind(body)} instead.",
            code="invalid_type",
        )
    if "messages" not in body:
        raise errors.invalid_request(
            "Missing required parameter: 'messages'.",
            param="messages",
            code="missing_required_parameter",
        )
    messages = body["messages"]
    if not isinstance(messages, list):
        raise _type_error("messages", "an array of objects", messages)
    if not messages:
        raise errors.invalid_request(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an "
            "empty array instead.",
            param="messages",
            code="empty_array",
        )
    for i, m in enumerate(messages):
        _check_message(i, m)
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _type_error("stream", "a boolean", stream)
    options = body.get("stream_options")
    include_usage = False
    if options is not None:
        if not isinstance(options, dict):
            raise _type_error("stream_options", "an object", options)
        if not stream:
            raise errors.invalid_request(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                param="stream_options",
                code="invalid_value",
            )
        include_usage = bool(options.get("include_usage"))
    temperature = _number(body, "temperature", 0, 2)
    top_p = _number(body, "top_p", 0, 1)
    max_tokens = _positive_int(body, "max_tokens")
    max_completion = _positive_int(body, "max_completion_tokens")
    n = _positive_int(body, "n") or 1
    if body.get("tools") is not None:
        _check_tools(body["tools"])
    return ChatParams(
        stream=bool(stream),
        include_usage=include_usage,
        max_tokens=max_completion if max_completion is not None else max_tokens,
        n=n,
        temperature=temperature,
        top_p=top_p,
    )


def check_reasoning(body: dict[str, Any]) -> None:
    """Reasoning models (GPT-5, o-series) reject these like Azure does."""
    if body.get("max_tokens") is not None:
        raise errors.unsupported_parameter("max_tokens", "Use 'max_completion_tokens' instead.")
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None and value != 1:
            raise errors.unsupported_value(name, value)


MAX_TOP_LOGPROBS = 20


def logprobs_request(body: dict[str, Any]) -> int | None:
    """None when logprobs are not asked for, else how many alternatives (`top_logprobs`)."""
    asked = body.get("logprobs")
    top = body.get("top_logprobs")
    if asked is not None and not isinstance(asked, bool):
        raise _type_error("logprobs", "a boolean", asked)
    if top is not None:
        if isinstance(top, bool) or not isinstance(top, int):
            raise _type_error("top_logprobs", "an integer", top)
        if not 0 <= top <= MAX_TOP_LOGPROBS:
            raise errors.invalid_request(
                f"Invalid 'top_logprobs': expected a value between 0 and {MAX_TOP_LOGPROBS}, but "
                f"got {top}.",
                param="top_logprobs",
                code="invalid_value",
            )
        if not asked:
            raise errors.invalid_request(
                "'top_logprobs' requires 'logprobs' to be true.",
                param="top_logprobs",
                code="invalid_value",
            )
    if not asked:
        return None
    return top or 0
