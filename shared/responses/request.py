"""A Responses API request as the router reads it: checked, its input as a list of items.

Every field is known (an unknown one is a 400, as OpenAI answers), so nothing the caller sent is
lost in translation; items are checked here once, for both the pass-through and the translation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.api import MAX_OUTPUT_TOKENS, ApiError, ChatRequest, missing, parse_json_object
from shared.api import ROLES as CHAT_ROLES

# Fields a chat-only tier can honour (translated in to_chat.py) or that the router handles itself.
FIELDS = frozenset(
    {
        "model",
        "input",
        "instructions",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "text",
        "max_output_tokens",
        "temperature",
        "top_p",
        "reasoning",
        "stream",
        "stream_options",
        "store",
        "previous_response_id",
        "metadata",
        "user",
        "include",
        "truncation",
        "service_tier",
        "top_logprobs",
        "safety_identifier",
        "prompt_cache_key",
    }
)
# Fields only a tier that speaks Responses can take: asked of a chat-only tier they are a 400.
PASS_THROUGH_ONLY = frozenset({"background", "conversation", "prompt", "max_tool_calls"})
# Chat's roles, but a tool's answer is a function_call_output item here, not a message.
ROLES = tuple(role for role in CHAT_ROLES if role != "tool")
MIN_OUTPUT_TOKENS = 16  # Responses' own floor (chat's is 1)


def _bounds(name: str) -> tuple[float, float]:
    """A sampling field's range as chat completions declare it (shared/api.py): one meaning in
    both APIs, so one place for it."""
    metadata = ChatRequest.model_fields[name].metadata  # pydantic's Ge / Le constraints
    low = next(m.ge for m in metadata if hasattr(m, "ge"))
    high = next(m.le for m in metadata if hasattr(m, "le"))
    return float(low), float(high)


SAMPLING = {name: _bounds(name) for name in ("temperature", "top_p")}
ITEM_TYPES = ("message", "function_call", "function_call_output", "reasoning", "item_reference")
FUNCTION = "function"
# {"type": "item_reference", "id": ...} names a stored item; the store resolves it (service.py).
REFERENCE = "item_reference"


@dataclass(frozen=True, slots=True)
class ResponsesRequest:
    body: dict[str, Any]  # as sent, minus nothing: the pass-through forwards it
    items: list[dict[str, Any]]  # `input` as items (a string becomes one user message)
    stream: bool
    store: bool
    previous_response_id: str | None

    @property
    def model(self) -> str:
        return str(self.body["model"])

    @property
    def builtin_tools(self) -> tuple[str, ...]:
        """Tool types that are not functions (web_search, file_search, mcp, ...)."""
        return tuple(
            dict.fromkeys(
                str(t.get("type"))
                for t in self.body.get("tools") or []
                if t.get("type") != FUNCTION
            )
        )

    @property
    def user(self) -> str | None:
        user = self.body.get("user") or self.body.get("safety_identifier")
        return user if isinstance(user, str) else None


def invalid(param: str, message: str, code: str = "invalid_value") -> ApiError:
    return ApiError(400, message, code=code, param=param)


def parse_responses_request(raw: bytes) -> ResponsesRequest:
    body = parse_json_object(raw)
    unknown = sorted(set(body) - FIELDS - PASS_THROUGH_ONLY)
    if unknown:
        return_error = invalid(
            unknown[0], f"Unknown parameter: '{unknown[0]}'.", "unknown_parameter"
        )
        raise return_error
    if body.get("store") is None:
        body.pop("store", None)  # null: the default (true)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise missing("model")
    if "input" not in body and not body.get("previous_response_id"):
        raise missing("input")
    items = input_items(body.get("input", []))
    limit = body.get("max_output_tokens")
    if isinstance(limit, float) and limit.is_integer():  # JSON's 80.0 is the integer 80
        body["max_output_tokens"] = int(limit)
    _check_types(body)
    tools = body.get("tools")
    if tools is not None:
        _check_tools(tools)
    stream = body.get("stream") or False
    store = body.get("store", True)
    previous = body.get("previous_response_id")
    if previous is not None and (not isinstance(previous, str) or not previous):
        raise invalid("previous_response_id", "'previous_response_id' must be a response id.")
    return ResponsesRequest(body, items, bool(stream), store is not False, previous)


def input_items(value: Any) -> list[dict[str, Any]]:
    """`input` as a list of checked items; a string is one user message."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    if not isinstance(value, list):
        raise invalid("input", "Invalid value for 'input': expected a string or a list of items.")
    return [_item(item, f"input[{index}]") for index, item in enumerate(value)]


def _item(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise invalid(where, f"Invalid value for '{where}': expected an object.", "invalid_type")
    kind = item.get("type", "message" if "role" in item else REFERENCE if "id" in item else None)
    if kind == REFERENCE:  # its `type` is optional in OpenAI's ItemReference
        if not isinstance(item.get("id"), str) or not item["id"]:
            raise missing(f"{where}.id")
        return {"type": REFERENCE, "id": item["id"]}
    if kind == "message":
        if item.get("role") not in ROLES:
            raise invalid(
                f"{where}.role",
                f"Invalid value for '{where}.role': must be one of {', '.join(ROLES)}.",
            )
        content = item.get("content")
        if not isinstance(content, str | list):
            raise missing(f"{where}.content")
        if isinstance(content, list):
            for index, part in enumerate(content):
                if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                    raise invalid(
                        f"{where}.content[{index}]",
                        f"Invalid value for '{where}.content[{index}]': expected a content part.",
                    )
        return {**item, "type": "message"}
    if kind == "function_call":
        for field in ("call_id", "name", "arguments"):
            if not isinstance(item.get(field), str):
                raise missing(f"{where}.{field}")
        return item
    if kind == "function_call_output":
        if not isinstance(item.get("call_id"), str):
            raise missing(f"{where}.call_id")
        if not isinstance(item.get("output"), str | list):
            raise missing(f"{where}.output")
        return item
    if kind == "reasoning":
        return item
    if kind is None:
        raise missing(f"{where}.type")
    raise invalid(
        f"{where}.type",
        f"Invalid value for '{where}.type': {kind!r} is not supported by the router; use one of "
        f"{', '.join(ITEM_TYPES)}.",
    )


def _check_types(body: dict[str, Any]) -> None:
    checks: tuple[tuple[str, type | tuple[type, ...]], ...] = (
        ("instructions", str),
        ("stream", bool),
        ("store", bool),
        ("parallel_tool_calls", bool),
        ("max_output_tokens", int),
        ("temperature", (int, float)),
        ("top_p", (int, float)),
        ("text", dict),
        ("reasoning", dict),
        ("metadata", dict),
        ("user", str),
        ("tools", list),
        ("include", list),
    )
    for name, kind in checks:
        value = body.get(name)
        if value is not None and (
            not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool)
        ):
            raise invalid(name, f"Invalid type for '{name}'.", "invalid_type")
    limit = body.get("max_output_tokens")
    if isinstance(limit, int) and not MIN_OUTPUT_TOKENS <= limit <= MAX_OUTPUT_TOKENS:
        raise invalid(
            "max_output_tokens",
            f"'max_output_tokens' must be from {MIN_OUTPUT_TOKENS} to {MAX_OUTPUT_TOKENS}.",
        )
    for name, (low, high) in SAMPLING.items():
        value = body.get(name)
        if isinstance(value, int | float) and not low <= value <= high:
            raise invalid(name, f"'{name}' must be between {low:g} and {high:g}.")
    if body.get("stream_options") is not None and not body.get("stream"):
        raise invalid(
            "stream_options",
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        )


def _check_tools(tools: list[Any]) -> None:
    for index, tool in enumerate(tools):
        where = f"tools[{index}]"
        if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
            raise missing(f"{where}.type")
        if tool["type"] == FUNCTION and not isinstance(tool.get("name"), str):
            raise missing(f"{where}.name")
