"""NESTFUL's rows as the OpenAI chat requests an agent sends: asks that need nested calls.

NESTFUL (IBM, Apache-2.0) ships inside the PyPI wheel `nestful-wrapper`
(data_v1/<subset>/<subset>-data.json: `input`, the user's ask, and `output`, the reference
sequence of calls, where a later call's argument is an earlier call's result, e.g.
"$var1.skyId$"; data_v1/<subset>/<subset>-spec.json: the catalog of functions). Every row is
a chain of two to seven dependent calls, so every row is labelled complex.

The dataset gives a catalog per subset, not the tools an agent would offer with each ask, so
each row is read three ways (SETTINGS): with the functions its reference sequence calls, with
those and others of the catalog up to 8 (shuffled with a fixed seed), and with the whole
catalog. Read: the executable subset (real APIs, 39 functions) and the Glaive-derived one (64).
Not read: the SGD-derived subset (the scorer trains on SGD's dialogues) and ComplexFuncBench
(200 MB of other data in the same wheel).
"""

from __future__ import annotations

import json
import random
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.routing.data import Prompt

PACKAGE = "nestful-wrapper"
VERSION = "0.1.7"
WHEEL = f"nestful_wrapper-{VERSION}-py3-none-any.whl"
SUBSETS = {
    "executable": "data_v1/executable/executable",
    "glaive": "data_v1/non-executable/non-executable-glaive",
}
GOLD, TO_EIGHT, CATALOG = "its own functions", "its own and others, 8", "the whole catalog"
SETTINGS = (GOLD, TO_EIGHT, CATALOG)
OFFERED = 8  # tools offered in the TO_EIGHT setting
SEED = 20261206
RESULT = "var_result"  # the reference sequence's last step: what it returns, not a call
JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object")


def openai_tool(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A catalog entry as an OpenAI function tool (a name keeps letters, digits, _ and -)."""
    properties: dict[str, Any] = {}
    required = []
    for name, param in (spec.get("query_parameters") or {}).items():
        kind = param.get("type")
        properties[name] = {
            "type": kind if kind in JSON_TYPES else "string",
            "description": str(param.get("description") or ""),
        }
        if param.get("required"):
            required.append(name)
    return {
        "type": "function",
        "function": {
            "name": tool_name(str(spec["name"])),
            "description": str(spec.get("description") or ""),
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


def tool_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in name)


def called(row: Mapping[str, Any]) -> list[str]:
    """The functions the row's reference sequence calls, in order of first use."""
    names = (str(step["name"]) for step in row["output"] if step.get("name") != RESULT)
    return list(dict.fromkeys(names))


def offered(
    row: Mapping[str, Any], catalog: Sequence[str], setting: str, rng: random.Random
) -> list[str]:
    """The functions a request offers with the row's ask, in the given setting."""
    own = [name for name in called(row) if name in catalog]
    if setting == GOLD:
        return own
    if setting == CATALOG:
        return list(catalog)
    others = [name for name in catalog if name not in own]
    rng.shuffle(others)
    chosen = own + others[: max(OFFERED - len(own), 0)]
    rng.shuffle(chosen)
    return chosen


def read_wheel(wheel: Path, limit: int | None = None) -> list[Prompt]:
    """Every row of SUBSETS in every setting (at most `limit` rows per subset)."""
    prompts: list[Prompt] = []
    with zipfile.ZipFile(wheel) as archive:
        for subset, stem in SUBSETS.items():
            rows = json.loads(archive.read(f"{stem}-data.json"))[:limit]
            specs = {str(s["name"]): s for s in json.loads(archive.read(f"{stem}-spec.json"))}
            catalog = list(specs)
            rng = random.Random(SEED)
            for setting in SETTINGS:
                for i, row in enumerate(rows):
                    names = offered(row, catalog, setting, rng)
                    ask = str(row["input"])
                    body = {
                        "messages": [{"role": "user", "content": ask}],
                        "tools": [openai_tool(specs[name]) for name in names],
                    }
                    source = f"{subset}, {setting}"
                    prompts.append(
                        Prompt(f"{subset}-{i}", source, setting, ask, label="complex", body=body)
                    )
    return prompts
