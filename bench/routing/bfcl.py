"""The Berkeley Function Calling Leaderboard's rows as the OpenAI chat requests a client sends.

BFCL ships its data inside the PyPI wheel `bfcl-eval` (bfcl_eval/data/BFCL_v4_<category>.json,
one JSON object a line: `question`, a list of turns of chat messages, and `function`, the
function docs offered). Each row becomes the first turn's messages and the functions as OpenAI
tools, converted the way BFCL converts them for OpenAI's chat completions
(bfcl_eval/model_handler/utils.py: `convert_to_tool` with `GORILLA_TO_OPENAPI`).

Labels, by category (what the next step has to do; BFCL's own category definitions):
- simple: one call chosen from the offered functions (simple_python, simple_java,
  simple_javascript, multiple, live_simple, live_multiple);
- complex: several different calls in one turn (parallel_multiple, live_parallel_multiple), or
  a multi-step task over a stateful API (multi_turn_base, its first user turn);
- unlabelled: the same function several times in one turn (parallel, live_parallel), and
  whether any offered tool applies (irrelevance, live_irrelevance, live_relevance): neither
  a clear one-call step nor planning, so only their share sent small is reported.
"""

from __future__ import annotations

import copy
import json
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.routing.data import Prompt

PACKAGE = "bfcl-eval"
VERSION = "2026.3.23"
WHEEL = f"bfcl_eval-{VERSION}-py3-none-any.whl"
DATA = "bfcl_eval/data/"

SIMPLE = (
    "simple_python",
    "simple_java",
    "simple_javascript",
    "multiple",
    "live_simple",
    "live_multiple",
)
COMPLEX = ("parallel_multiple", "live_parallel_multiple", "multi_turn_base")
UNLABELLED = ("parallel", "live_parallel", "irrelevance", "live_irrelevance", "live_relevance")
CATEGORIES = SIMPLE + COMPLEX + UNLABELLED
# Not read: format_sensitivity (prompt formats for prompting models), memory and web_search
# (agentic, their first turn depends on earlier sessions or a system prompt of BFCL's own),
# the multi_turn variants other than base (the same tasks with parts held out).

# BFCL's GORILLA_TO_OPENAPI (bfcl_eval/constants/type_mappings.py); any other type is "string".
GORILLA_TO_OPENAPI = {
    "integer": "integer",
    "number": "number",
    "float": "number",
    "string": "string",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "dict": "object",
    "object": "object",
    "tuple": "array",
    "any": "string",
    "byte": "integer",
    "short": "integer",
    "long": "integer",
    "double": "number",
    "char": "string",
    "ArrayList": "array",
    "Array": "array",
    "HashMap": "object",
    "Hashtable": "object",
    "Queue": "array",
    "Stack": "array",
    "Any": "string",
    "String": "string",
    "Bigint": "integer",
}
# The multi-turn rows name their API classes (`involved_classes`); the function docs are in
# bfcl_eval/data/multi_turn_func_doc (bfcl_eval/constants/executable_backend_config.py).
MULTI_TURN_FUNC_DOCS = {
    "GorillaFileSystem": "gorilla_file_system.json",
    "MathAPI": "math_api.json",
    "MessageAPI": "message_api.json",
    "TwitterAPI": "posting_api.json",
    "TicketAPI": "ticket_api.json",
    "TradingBot": "trading_bot.json",
    "TravelAPI": "travel_booking.json",
    "VehicleControlAPI": "vehicle_control.json",
}


def label_of(category: str) -> str | None:
    """ "simple", "complex", or None (unlabelled: reported as the share sent small)."""
    if category in SIMPLE:
        return "simple"
    if category in COMPLEX:
        return "complex"
    if category in UNLABELLED:
        return None
    raise ValueError(f"not a category read here: {category}")


def _openai_type(gorilla_type: Any) -> str:
    if not isinstance(gorilla_type, str):  # missing, or not a type name
        return "string"
    return GORILLA_TO_OPENAPI.get(gorilla_type, "string")


def _cast_properties(properties: dict[str, Any]) -> dict[str, Any]:
    """BFCL's `_cast_to_openai_type`: each property's type mapped (missing: "string"; a float
    also says so in its description, as BFCL tells OpenAI models), into nested properties and
    into the items of arrays (two levels) and of arrays of objects."""
    for prop in properties.values():
        if "type" not in prop:
            prop["type"] = "string"
        else:
            if prop["type"] == "float":
                prop["format"] = "float"
                prop["description"] = prop.get("description", "") + " This is a float type value."
            prop["type"] = _openai_type(prop["type"])
        if prop["type"] not in ("array", "object"):
            continue
        if "properties" in prop:
            prop["properties"] = _cast_properties(prop["properties"])
        elif "items" in prop:
            items = prop["items"]
            items["type"] = _openai_type(items.get("type"))
            if items["type"] == "array" and "items" in items:
                items["items"]["type"] = _openai_type(items["items"].get("type"))
            elif items["type"] == "object" and "properties" in items:
                items["properties"] = _cast_properties(items["properties"])
    return properties


# The plugin of a function without a module, when functions are named as plugins' (below).
PLUGIN = "AppPlugin"


def openai_name(name: str, plugins: bool = False) -> str:
    """A BFCL function's name as a client sends it. OpenAI names allow ^[a-zA-Z0-9_-]+$, so
    "." becomes "_" as BFCL does (`math.gcd` -> `math_gcd`); with `plugins`, as Semantic
    Kernel's OpenAI connector names a plugin's function, `Plugin-function`: the module is the
    plugin (`math-gcd`), a function without one sits in PLUGIN (`AppPlugin-calculate_bmi`)."""
    if not plugins:
        return name.replace(".", "_")
    module, _, own = name.rpartition(".")
    return f"{module.replace('.', '_') or PLUGIN}-{own}"


def openai_tool(function: Mapping[str, Any], plugins: bool = False) -> dict[str, Any]:
    """One BFCL function doc as an OpenAI chat-completions tool, named by `openai_name`; only
    name, description and parameters are sent (the multi-turn docs' `response` schema is
    BFCL's, not the model's)."""
    parameters = copy.deepcopy(dict(function.get("parameters") or {}))
    parameters["type"] = "object"
    parameters["properties"] = _cast_properties(parameters.get("properties") or {})
    return {
        "type": "function",
        "function": {
            "name": openai_name(str(function["name"]), plugins),
            "description": str(function.get("description", "")),
            "parameters": parameters,
        },
    }


def first_turn(row: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The messages of the row's first turn when it is a plain one (system messages, then one
    user message with text); None otherwise (a conversation already under way)."""
    turns = row.get("question") or []
    if not turns:
        return None
    messages = [dict(m) for m in turns[0]]
    roles = [m.get("role") for m in messages]
    while roles and roles[0] == "system":
        roles.pop(0)
    if roles != ["user"] or not isinstance(messages[-1].get("content"), str):
        return None
    if not messages[-1]["content"].strip():
        return None
    return messages


def request_of(
    row: Mapping[str, Any], functions: Sequence[Mapping[str, Any]], plugins: bool = False
) -> dict[str, Any] | None:
    """The chat request a client sends for the row's first turn (no `model`), or None;
    `plugins`: the functions named as plugins' (`openai_name`)."""
    messages = first_turn(row)
    if messages is None:
        return None
    body: dict[str, Any] = {"messages": messages}
    if functions:
        body["tools"] = [openai_tool(f, plugins) for f in functions]
    return body


def prompt_of(
    category: str,
    row: Mapping[str, Any],
    functions: Sequence[Mapping[str, Any]],
    plugins: bool = False,
) -> Prompt | None:
    """The row as the routing evaluation's Prompt (source = the BFCL category), or None."""
    body = request_of(row, functions, plugins)
    if body is None:
        return None
    text = str(body["messages"][-1]["content"])
    return Prompt(str(row["id"]), category, category, text, label=label_of(category), body=body)


def _json_lines(archive: zipfile.ZipFile, name: str) -> Iterator[dict[str, Any]]:
    for line in archive.read(name).decode("utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def read_wheel(
    wheel: Path,
    categories: Sequence[str] = CATEGORIES,
    limit: int | None = None,
    plugins: bool = False,
) -> tuple[list[Prompt], dict[str, int]]:
    """Every usable row of `categories` (at most `limit` per category, in file order) straight
    from the wheel's zip, and how many rows of each category were skipped; `plugins`: the
    functions named as plugins' (`openai_name`)."""
    prompts: list[Prompt] = []
    skipped: dict[str, int] = {}
    with zipfile.ZipFile(wheel) as archive:
        docs: dict[str, list[dict[str, Any]]] = {}
        for category in categories:
            label_of(category)  # refuses a category that is not read here
            kept = 0
            skipped[category] = 0
            for row in _json_lines(archive, f"{DATA}BFCL_v4_{category}.json"):
                if limit is not None and kept >= limit:
                    break
                functions = row.get("function")
                # Multi-turn: the docs of the API classes involved, every one of them (BFCL's
                # own inference ignores the rows' `excluded_function` too)
                if functions is None:
                    functions = []
                    for api in row.get("involved_classes", ()):
                        if api not in docs:
                            name = f"{DATA}multi_turn_func_doc/{MULTI_TURN_FUNC_DOCS[api]}"
                            docs[api] = list(_json_lines(archive, name))
                        functions += docs[api]
                prompt = prompt_of(category, row, functions, plugins)
                if prompt is None:
                    skipped[category] += 1
                    continue
                prompts.append(prompt)
                kept += 1
    return prompts, skipped
