"""The `broken_answer` fault: a 200 whose agent turn is wrong in a way a small model's can be.

Small models with tools sometimes call a function they were not offered, write arguments that
are not JSON (cut off, a stray brace), write JSON that breaks the function's parameter schema
(a required field missing, a wrong type), or answer nothing. The answer stays a well-formed chat
completion or Response: only what the model said is wrong, as it would be from Foundry.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from devtools.emulator.answers import Answer
from devtools.emulator.structured import instance

UNOFFERED = "lookup_everything"  # a plausible function name no request offers


def break_answer(
    reply: Answer,
    breakage: str,
    tools: list[dict[str, Any]] | None,
    response_format: dict[str, Any] | None = None,
) -> Answer:
    """`reply` with the fault's breakage; `tools` in chat's shape, `response_format` chat's."""
    if breakage == "empty":
        return Answer("", "stop", 0)
    schema = _output_schema(response_format)
    if breakage == "schema_violation" and schema is not None and not reply.tool_calls:
        return replace(reply, content=orjson.dumps(_violating(schema)).decode())
    call = reply.tool_calls[0] if reply.tool_calls else _first_call(tools or [])
    name = call["function"]["name"]
    arguments = call["function"]["arguments"]
    if breakage == "unknown_function":
        name = UNOFFERED
    elif breakage == "unparseable_arguments":
        arguments = arguments[:-1] if arguments.endswith("}") else arguments + "{"
    else:  # schema_violation
        parameters = _parameters(tools or [], name)
        arguments = orjson.dumps(_violating(parameters)).decode()
    broken = {**call, "function": {"name": name, "arguments": arguments}}
    return Answer(None, "tool_calls", reply.completion_tokens or 1, tool_calls=[broken])


def _first_call(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """A valid call of the first offered function (of an unoffered one without tools): what the
    model would have called, before it is broken."""
    functions = [t["function"] for t in tools if isinstance(t.get("function"), dict)]
    name = str(functions[0].get("name")) if functions else UNOFFERED
    parameters = (functions[0].get("parameters") if functions else None) or {"type": "object"}
    arguments = instance(parameters, "example")
    return {
        "id": "call_broken",
        "type": "function",
        "function": {"name": name, "arguments": orjson.dumps(arguments).decode()},
    }


def _parameters(tools: list[dict[str, Any]], name: str) -> dict[str, Any]:
    for tool in tools:
        function = tool.get("function")
        if isinstance(function, dict) and function.get("name") == name:
            parameters = function.get("parameters")
            return parameters if isinstance(parameters, dict) else {}
    return {}


def _output_schema(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    if not response_format or response_format.get("type") != "json_schema":
        return None
    schema = (response_format.get("json_schema") or {}).get("schema")
    return schema if isinstance(schema, dict) else None


def _violating(schema: dict[str, Any]) -> Any:
    """A JSON value the schema refuses: its required fields left out, else a property of the
    wrong type, else not an object at all."""
    if schema.get("required"):
        return {}
    properties = schema.get("properties")
    if isinstance(properties, dict) and properties:
        name, spec = next(iter(properties.items()))
        wrong: Any = 12345 if (spec or {}).get("type") != "integer" else "twelve"
        return {name: wrong}
    return ["not", "an", "object"]
