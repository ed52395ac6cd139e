"""What can be checked of a small model's agent turn without asking another model.

A small model that takes tools sometimes names a function it was not offered, writes arguments
that are not JSON or that break the function's JSON Schema (a missing required field, a wrong
type, a value outside an enum), returns structured output its schema refuses, or answers
nothing. Each is certain from the request and the answer alone, and an agent framework would
fail on it; the router then asks the next tier up instead (the wiring is the caller's).

`chat_expectations` / `responses_expectations` read what a request offered (the functions and
their parameter schemas, the response format) into `Expectations`; `check_chat` /
`check_responses` return the first `Failure` of an answer, or None. Schemas are compiled once
per tool list (agent frameworks send the same list with every call) and never fetch a remote
`$ref`: a schema that cannot be compiled offline is not checked, only its arguments' JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import jsonschema_rs
import orjson

Failure = Literal[
    "unknown function",
    "unparseable tool arguments",
    "invalid tool arguments",
    "invalid structured output",
    "empty answer",
]
# Larger tool lists or schemas are checked but not kept compiled: a cache entry holds its key.
CACHEABLE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Expectations:
    """What an answer to one request must satisfy."""

    # Offered function name -> the validator of its parameters (None: nothing to check).
    functions: Mapping[str, jsonschema_rs.Validator | None]
    output_schema: jsonschema_rs.Validator | None = None  # a json_schema response format
    json_output: bool = False  # json_object or json_schema: the text must be a JSON object

    @property
    def agent_turn(self) -> bool:
        """Whether the request offered tools or asked for JSON: the turns the guard covers."""
        return bool(self.functions) or self.json_output


NOTHING = Expectations({})


def chat_expectations(body: Mapping[str, Any]) -> Expectations:
    """From a chat-completions body: `tools` (and legacy `functions`), `response_format`."""
    functions: dict[str, jsonschema_rs.Validator | None] = {}
    for shape in ("tools", "functions"):
        declared = body.get(shape)
        if isinstance(declared, list) and declared:
            functions.update(_functions(_key(declared), shape))
    fmt = body.get("response_format")
    fmt = fmt if isinstance(fmt, Mapping) else {}
    spec = fmt.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, Mapping) else None
    return _expect(functions, fmt.get("type"), schema)


def responses_expectations(body: Mapping[str, Any]) -> Expectations:
    """From a Responses body: function `tools` (name and parameters at the top), `text.format`."""
    functions: dict[str, jsonschema_rs.Validator | None] = {}
    tools = body.get("tools")
    if isinstance(tools, list) and tools:
        functions.update(_functions(_key(tools), "responses"))
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, Mapping) else None
    fmt = fmt if isinstance(fmt, Mapping) else {}
    return _expect(functions, fmt.get("type"), fmt.get("schema"))


def check_chat(expected: Expectations, answer: Mapping[str, Any]) -> Failure | None:
    """The first thing wrong with a chat completion, or None."""
    choices = answer.get("choices")
    for choice in choices if isinstance(choices, list) else ():
        message = choice.get("message") if isinstance(choice, Mapping) else None
        if not isinstance(message, Mapping):
            return "empty answer"
        calls = [
            _function_of(call)
            for call in _listed(message.get("tool_calls"))
            if not isinstance(call, Mapping) or call.get("type", "function") == "function"
        ]
        legacy = message.get("function_call")
        if isinstance(legacy, Mapping):
            calls.append(legacy)
        failure = _answer(expected, calls, message.get("content"), message.get("refusal"))
        if failure:
            return failure
    return None


def check_responses(expected: Expectations, answer: Mapping[str, Any]) -> Failure | None:
    """The first thing wrong with a Response's output items, or None."""
    calls: list[Mapping[str, Any]] = []
    texts: list[str] = []
    refusal = None
    output = answer.get("output")
    for item in output if isinstance(output, list) else ():
        if not isinstance(item, Mapping):
            continue
        if item.get("type") == "function_call":
            calls.append(item)
        elif item.get("type") == "message":
            for part in item.get("content") or ():
                if not isinstance(part, Mapping):
                    continue
                if part.get("type") == "output_text" and isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif part.get("type") == "refusal":
                    refusal = part.get("refusal")
    return _answer(expected, calls, "".join(texts) if texts else None, refusal)


def check_tool_call(expected: Expectations, name: object, arguments: object) -> Failure | None:
    """One function call: an offered name, JSON arguments its parameters' schema accepts."""
    if not isinstance(name, str) or name not in expected.functions:
        return "unknown function"
    # No arguments are an empty object, as agent frameworks read them (LangChain, the OpenAI
    # Agents SDK): a function without parameters is often called so.
    empty = arguments is None or (isinstance(arguments, str) and not arguments.strip())
    parsed = {} if empty else _json(arguments)
    if parsed is _BROKEN:
        return "unparseable tool arguments"
    validator = expected.functions[name]
    if validator is not None and not validator.is_valid(parsed):
        return "invalid tool arguments"
    return None


# ---- internals -------------------------------------------------------------------------------

_BROKEN = object()


def _answer(
    expected: Expectations,
    calls: Sequence[Mapping[str, Any]],
    content: object,
    refusal: object,
) -> Failure | None:
    for call in calls:
        failure = check_tool_call(expected, call.get("name"), call.get("arguments"))
        if failure:
            return failure
    if calls or (isinstance(refusal, str) and refusal.strip()):
        return None  # a refusal is an answer, and is not held to the output schema
    if not isinstance(content, str) or not content.strip():
        return "empty answer"
    if expected.json_output:
        parsed = _json(content)
        if not isinstance(parsed, dict):
            return "invalid structured output"
        if expected.output_schema is not None and not expected.output_schema.is_valid(parsed):
            return "invalid structured output"
    return None


def _listed(tool_calls: object) -> Sequence[object]:
    """A message's tool calls; something else where a list belongs is one broken call."""
    if tool_calls is None:
        return ()
    return tool_calls if isinstance(tool_calls, list) else (tool_calls,)


def _function_of(call: object) -> Mapping[str, Any]:
    """A chat tool call's function (name, arguments); empty where the call is malformed."""
    function = call.get("function") if isinstance(call, Mapping) else None
    return function if isinstance(function, Mapping) else {}


def _json(text: object) -> Any:
    if not isinstance(text, str):
        return _BROKEN
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return _BROKEN


def _expect(
    functions: dict[str, jsonschema_rs.Validator | None], kind: object, schema: object
) -> Expectations:
    json_output = kind in ("json_schema", "json_object")
    output = _compiled(_key(schema)) if kind == "json_schema" and schema is not None else None
    if not functions and not json_output:
        return NOTHING
    return Expectations(functions, output, json_output)


def _key(value: object) -> bytes:
    """The cache key of a schema or tool list: its JSON. Not sorted (a third faster): an agent
    sends the same list in the same order every call, and a reordered one is only a miss."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return b"null"


# Where a tool list keeps a function's name and parameters.
ToolShape = Literal["tools", "functions", "responses"]


def _function_spec(tool: object, shape: ToolShape) -> Mapping[str, Any] | None:
    if not isinstance(tool, dict):
        return None
    if shape == "tools":  # chat: {"type": "function", "function": {"name", "parameters"}}
        spec = tool.get("function")
        return (
            spec if tool.get("type", "function") == "function" and isinstance(spec, dict) else None
        )
    if shape == "responses":  # {"type": "function", "name", "parameters"}
        return tool if tool.get("type") == "function" else None
    return tool  # chat's legacy `functions`: {"name", "parameters"}


Validators = Mapping[str, jsonschema_rs.Validator | None]


def _build_functions(tools: bytes, shape: ToolShape) -> Validators:
    out: dict[str, jsonschema_rs.Validator | None] = {}
    for tool in orjson.loads(tools):
        spec = _function_spec(tool, shape)
        if spec is not None and isinstance(spec.get("name"), str):
            parameters = spec.get("parameters")
            out[spec["name"]] = None if parameters is None else _compiled(_key(parameters))
    return out


_cached_functions = lru_cache(maxsize=256)(_build_functions)


def _functions(tools: bytes, shape: ToolShape) -> Validators:
    if len(tools) <= CACHEABLE_BYTES:
        return _cached_functions(tools, shape)
    return _build_functions(tools, shape)


def _compiled(schema: bytes) -> jsonschema_rs.Validator | None:
    if len(schema) <= CACHEABLE_BYTES:
        return _cached_compile(schema)
    return _compile(schema)


def _compile(schema: bytes) -> jsonschema_rs.Validator | None:
    """A validator, or None for a schema that cannot be compiled offline (not checked)."""
    try:
        return jsonschema_rs.validator_for(orjson.loads(schema), offline=True)
    except (ValueError, TypeError):  # jsonschema_rs.ValidationError is a ValueError
        return None


_cached_compile = lru_cache(maxsize=1024)(_compile)
