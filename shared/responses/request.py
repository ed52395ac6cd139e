"""A Responses API request as the router reads it: checked, its input as a list of items.

The request is declared in types pydantic validates, as chat completions' is (shared/api.py),
and the OpenAPI document derives its schema from them (shared/responses/schema.py). Every field
is known (an unknown one is a 400, as OpenAI answers), so nothing the caller sent is lost in
translation; items are checked here once, for both the pass-through and the translation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NotRequired, Required, get_args

from annotated_types import Interval
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    with_config,
)
from typing_extensions import TypedDict  # pydantic's choice before Python 3.12

from shared.api import (
    MAX_OUTPUT_TOKENS,
    SAMPLING,
    WHOLE,
    ApiError,
    InputRole,
    Temperature,
    TopP,
    missing,
    param_path,
    parse_json_object,
)

# Fields only a tier that speaks Responses can take: asked of a chat-only tier they are a 400.
PASS_THROUGH_ONLY = frozenset({"background", "conversation", "prompt", "max_tool_calls"})
MIN_OUTPUT_TOKENS = 16  # Responses' own floor (chat's is 1)
OUTPUT_TOKENS = Interval(ge=MIN_OUTPUT_TOKENS, le=MAX_OUTPUT_TOKENS)
FUNCTION = "function"
# {"type": "item_reference", "id": ...} names a stored item; the store resolves it (service.py).
REFERENCE = "item_reference"
MESSAGE = "message"
ROLES: tuple[str, ...] = get_args(InputRole)

# TypedDicts rather than models: the router forwards the body as it came, so nothing needs an
# instance, and validating into plain dicts costs less than building them. Items and tools carry
# fields the router does not read (ids, statuses, annotations, a tool's parameters): kept, and
# passed on as they came.
OPEN = ConfigDict(extra="allow", strict=True)


@with_config(OPEN)
class InputPart(TypedDict):
    """A content part; its type says what it holds (input_text, input_image, ...)."""

    type: str


@with_config(OPEN)
class Message(TypedDict):
    """What every input message has; its content is InputMessage's or TextMessage's."""

    type: NotRequired[Literal["message"]]
    role: InputRole


def _text_or_parts(value: Any) -> str | None:
    return "text" if isinstance(value, str) else "parts" if isinstance(value, list) else None


@with_config(OPEN)
class InputMessage(Message):
    content: Annotated[
        Annotated[str, Tag("text")] | Annotated[list[InputPart], Tag("parts")],
        Discriminator(_text_or_parts),
    ]


@with_config(OPEN)
class FunctionCall(TypedDict):
    type: Literal["function_call"]
    call_id: str
    name: str
    arguments: str


@with_config(OPEN)
class FunctionCallOutput(TypedDict):
    type: Literal["function_call_output"]
    call_id: str
    output: str | list[Any]


@with_config(OPEN)
class Reasoning(TypedDict):
    """Passed on as it came: only a tier that reasons reads it."""

    type: Literal["reasoning"]


@with_config(OPEN)
class ItemReference(TypedDict):
    type: NotRequired[Literal["item_reference"]]
    id: Annotated[str, Field(min_length=1)]


def item_kind(item: Any) -> str | None:
    """An item's type; OpenAI lets a message (it has a role) and a reference (an id) omit it."""
    if not isinstance(item, dict):
        return None
    kind = item.get("type", MESSAGE if "role" in item else REFERENCE if "id" in item else None)
    return kind if kind is None or isinstance(kind, str) else repr(kind)


Item = Annotated[
    Annotated[InputMessage, Tag(MESSAGE)]
    | Annotated[FunctionCall, Tag("function_call")]
    | Annotated[FunctionCallOutput, Tag("function_call_output")]
    | Annotated[Reasoning, Tag("reasoning")]
    | Annotated[ItemReference, Tag(REFERENCE)],
    Discriminator(item_kind),
]
ITEM_TYPES = (MESSAGE, "function_call", "function_call_output", "reasoning", REFERENCE)


def _input_items(value: Any) -> Any:
    # A string is one user message; anything else must be a list of items.
    return (
        [{"type": MESSAGE, "role": "user", "content": value}] if isinstance(value, str) else value
    )


@with_config(OPEN)
class FunctionTool(TypedDict):
    type: Literal["function"]
    name: str


@with_config(OPEN)
class BuiltinTool(TypedDict):
    """web_search, file_search, mcp, ...: run by a tier that has it (service.py)."""

    type: str


def _tool_kind(tool: Any) -> str:
    return FUNCTION if isinstance(tool, dict) and tool.get("type") == FUNCTION else "builtin"


Tool = Annotated[
    Annotated[FunctionTool, Tag(FUNCTION)] | Annotated[BuiltinTool, Tag("builtin")],
    Discriminator(_tool_kind),
]


Model = Annotated[str, Field(min_length=1)]  # auto, a tier or a deployment (gateway.py)


# Its validator is built on first use (~10 ms): a cold start that serves chat never pays for it.
@with_config(ConfigDict(extra="forbid", strict=True, defer_build=True))
class RequestBody(TypedDict, total=False):
    """Every field of the request: an unknown one is a 400. The checked ones first, in the order
    their problems are reported; then the ones passed on as they came (a chat-only tier either
    translates them, to_chat.py, or refuses PASS_THROUGH_ONLY). null is "not given", as OpenAI
    reads it."""

    model: Required[Model]
    # Required unless `previous_response_id` continues a conversation (parse_responses_request).
    input: Annotated[list[Item], BeforeValidator(_input_items)]
    instructions: str | None
    stream: bool | None
    store: bool | None
    parallel_tool_calls: bool | None
    max_output_tokens: Annotated[int, OUTPUT_TOKENS, WHOLE] | None
    temperature: Temperature | None
    top_p: TopP | None
    text: dict[str, Any] | None
    reasoning: dict[str, Any] | None
    metadata: dict[str, Any] | None
    user: str | None
    tools: list[Tool] | None
    include: list[Any] | None
    previous_response_id: Annotated[str, Field(min_length=1)] | None
    tool_choice: Any
    stream_options: Any
    truncation: Any
    service_tier: Any
    top_logprobs: Any
    safety_identifier: Any
    prompt_cache_key: Any
    background: Any
    conversation: Any
    prompt: Any
    max_tool_calls: Any


REQUEST = TypeAdapter(RequestBody)


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


def is_responses_body(body: Mapping[str, Any]) -> bool:
    """A Responses API body (`input`, or only a `previous_response_id`), not a chat one."""
    return "messages" not in body and ("input" in body or "previous_response_id" in body)


def parse_responses_request(raw: bytes) -> ResponsesRequest:
    return responses_request(parse_json_object(raw))


def responses_request(body: dict[str, Any]) -> ResponsesRequest:
    """`parse_responses_request` of a body already read as a JSON object."""
    try:
        fields = REQUEST.validate_python(body)
    except ValidationError as exc:
        raise refusal(exc, body) from None
    previous = fields.get("previous_response_id")
    if "input" not in body and not previous:
        raise missing("input")
    # OpenAI refuses a request with nothing to answer, instructions or not
    if body.get("input") == [] and not previous:
        raise invalid("input", "'input' must contain at least one item.")
    if body.get("store", False) is None:
        del body["store"]  # null: the default (true)
    if isinstance(body.get("max_output_tokens"), float):  # JSON's 80.0 is the integer 80
        body["max_output_tokens"] = fields["max_output_tokens"]
    stream = bool(fields.get("stream"))
    if fields.get("stream_options") is not None and not stream:
        raise invalid(
            "stream_options",
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        )
    given = body.get("input", [])
    items = _input_items(given) if isinstance(given, str) else [_item(item) for item in given]
    return ResponsesRequest(body, items, stream, fields.get("store") is not False, previous)


def _item(item: dict[str, Any]) -> dict[str, Any]:
    """A checked item as the rest of the router reads it: its `type` always given."""
    kind = item_kind(item)
    if kind == REFERENCE:
        return {"type": REFERENCE, "id": item["id"]}
    if kind == MESSAGE:
        return {**item, "type": MESSAGE}
    return item


# A union's member as pydantic's error locations name it: after a list index (an item, a tool)
# or after `content`; never a field of the request.
TAGS = frozenset({*ITEM_TYPES, FUNCTION, "builtin", "text", "parts"})
RANGES = {**SAMPLING, "max_output_tokens": OUTPUT_TOKENS}


def refusal(exc: ValidationError, body: dict[str, Any]) -> ApiError:
    """The first problem in OpenAI's terms: its `param` the field's path (`input[2].call_id`),
    its code what kind of problem it is. An unknown field comes first, then the model, then a
    missing input, then the fields in their order."""
    errors = exc.errors(include_url=False)
    unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
    if unknown:
        return invalid(unknown[0], f"Unknown parameter: '{unknown[0]}'.", "unknown_parameter")
    error = errors[0]
    loc = _path(error["loc"])
    field = str(loc[0])
    if field == "model":
        return missing("model")
    if "input" not in body and not body.get("previous_response_id"):
        return missing("input")
    if field == "input":
        return _item_refusal(loc, error["type"], error["input"])
    if field == "tools" and len(loc) > 1:  # a tool without its type (or a function its name)
        return missing(param_path([*loc[:2], loc[2] if len(loc) > 2 else "type"]))
    if field == "previous_response_id":
        return invalid(field, "'previous_response_id' must be a response id.")
    if error["type"] in ("greater_than_equal", "less_than_equal"):
        return invalid(field, _range(field))
    return invalid(field, f"Invalid type for '{field}'.", "invalid_type")


def _path(loc: tuple[int | str, ...]) -> list[int | str]:
    path: list[int | str] = []
    for part in loc:
        tagged = path and (isinstance(path[-1], int) or path[-1] == "content")
        if not (tagged and part in TAGS):
            path.append(part)
    return path


def _range(field: str) -> str:
    bounds = RANGES[field]
    if field == "max_output_tokens":
        return f"'{field}' must be from {bounds.ge} to {bounds.le}."
    return f"'{field}' must be between {bounds.ge:g} and {bounds.le:g}."


def _item_refusal(loc: list[int | str], kind: str, value: Any) -> ApiError:
    if len(loc) == 1:
        return invalid("input", "Invalid value for 'input': expected a string or a list of items.")
    where = param_path(loc[:2])
    if len(loc) == 2:  # the item itself: not an object, or of no type the router reads
        if not isinstance(value, dict):
            message = f"Invalid value for '{where}': expected an object."
            return invalid(where, message, "invalid_type")
        tag = param_path([*loc[:2], "type"])
        if kind == "union_tag_not_found":
            return missing(tag)
        return invalid(
            tag,
            f"Invalid value for '{tag}': {value.get('type')!r} is not supported by the "
            f"router; use one of {', '.join(ITEM_TYPES)}.",
        )
    field = param_path(loc[:3])
    if loc[2] == "role":
        return invalid(field, f"Invalid value for '{field}': must be one of {', '.join(ROLES)}.")
    if loc[2] == "content" and len(loc) > 3:
        part = param_path(loc[:4])
        return invalid(part, f"Invalid value for '{part}': expected a content part.")
    return missing(field)
