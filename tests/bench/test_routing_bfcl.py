"""BFCL rows as the OpenAI chat requests a client sends (bench/routing/bfcl.py)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from bench.routing.bfcl import (
    DATA,
    PLUGIN,
    label_of,
    openai_name,
    openai_tool,
    read_wheel,
    request_of,
)

ROW = {
    "id": "live_simple_7-3-0",
    "question": [
        [
            {"role": "system", "content": "You are a travel agent."},
            {"role": "user", "content": "Book 2 seats to Oslo and tell me the fare."},
        ]
    ],
    "function": [
        {
            "name": "flights.book",
            "description": "Book seats on a flight.",
            "parameters": {
                "type": "dict",
                "required": ["city"],
                "properties": {
                    "city": {"type": "string", "description": "Destination."},
                    "budget": {"type": "float", "description": "Most to pay."},
                    "window": {"type": "tuple", "items": {"type": "integer"}},
                    "extras": {"type": "any"},
                    "note": {"description": "No type given."},
                    "seats": {
                        "type": "array",
                        "items": {"type": "dict", "properties": {"row": {"type": "long"}}},
                    },
                    "options": {"type": "dict", "properties": {"meal": {"type": "bool"}}},
                },
            },
        }
    ],
}


def test_functions_named_as_a_plugins_keep_their_module_as_the_plugin() -> None:
    assert openai_name("math.gcd") == "math_gcd"
    assert openai_name("math.gcd", plugins=True) == "math-gcd"
    assert openai_name("stats.t_test.run", plugins=True) == "stats_t_test-run"
    assert openai_name("calculate_bmi", plugins=True) == f"{PLUGIN}-calculate_bmi"
    body = request_of(ROW, ROW["function"], plugins=True)
    assert body is not None
    assert [t["function"]["name"] for t in body["tools"]] == ["flights-book"]


def test_a_row_becomes_the_first_turn_and_openai_tools() -> None:
    body = request_of(ROW, ROW["function"])
    assert body is not None
    assert body["messages"] == ROW["question"][0]
    (tool,) = body["tools"]
    assert tool["type"] == "function"
    function = tool["function"]
    assert function["name"] == "flights_book"  # OpenAI names allow no "."
    assert function["description"] == "Book seats on a flight."
    parameters = function["parameters"]
    assert parameters["type"] == "object"
    assert parameters["required"] == ["city"]
    props = parameters["properties"]
    assert props["city"] == {"type": "string", "description": "Destination."}
    # BFCL's own conversion for OpenAI: a float is a number and says so
    assert props["budget"] == {
        "type": "number",
        "format": "float",
        "description": "Most to pay. This is a float type value.",
    }
    assert props["window"] == {"type": "array", "items": {"type": "integer"}}
    assert props["extras"] == {"type": "string"}  # BFCL maps "any" to "string"
    assert props["note"]["type"] == "string"
    assert props["seats"]["items"] == {
        "type": "object",
        "properties": {"row": {"type": "integer"}},
    }
    assert props["options"]["properties"] == {"meal": {"type": "boolean"}}
    # the row itself is left as it was
    assert ROW["function"][0]["parameters"]["type"] == "dict"


def test_only_name_description_and_parameters_are_sent() -> None:
    doc = {"name": "ls", "description": "List.", "parameters": {"type": "dict", "properties": {}}}
    tool = openai_tool({**doc, "response": {"type": "dict"}})
    assert set(tool["function"]) == {"name", "description", "parameters"}


@pytest.mark.parametrize(
    "turn",
    [
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
        [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
        [{"role": "system", "content": "s"}],
        [{"role": "user", "content": "   "}],
    ],
)
def test_a_turn_that_is_not_a_plain_first_turn_is_skipped(turn: list[dict[str, str]]) -> None:
    assert request_of({"id": "x", "question": [turn], "function": []}, []) is None


def test_labels_by_category() -> None:
    assert label_of("live_multiple") == "simple"
    assert label_of("multi_turn_base") == "complex"
    assert label_of("live_irrelevance") is None
    with pytest.raises(ValueError, match="memory"):
        label_of("memory")


def test_the_wheel_is_read_as_a_zip(tmp_path: Path) -> None:
    """Multi-turn rows get the function docs of the API classes they involve."""
    wheel = tmp_path / "bfcl.whl"
    turn = [[{"role": "user", "content": "Add 2 and 3, then tweet it"}]]
    with zipfile.ZipFile(wheel, "w") as archive:
        rows = [{"id": f"multi_turn_base_{i}", "question": turn} for i in range(3)]
        rows[0]["involved_classes"] = ["MathAPI", "TwitterAPI"]
        archive.writestr(
            f"{DATA}BFCL_v4_multi_turn_base.json", "\n".join(json.dumps(r) for r in rows)
        )
        archive.writestr(f"{DATA}BFCL_v4_simple_python.json", json.dumps(ROW) + "\n")
        for name, fn in (("math_api.json", "add"), ("posting_api.json", "post_tweet")):
            doc = {"name": fn, "description": "", "parameters": {"type": "dict", "properties": {}}}
            archive.writestr(f"{DATA}multi_turn_func_doc/{name}", json.dumps(doc) + "\n")
    prompts, skipped = read_wheel(wheel, ("multi_turn_base", "simple_python"), limit=2)
    assert [p.source for p in prompts] == ["multi_turn_base", "multi_turn_base", "simple_python"]
    assert [t["function"]["name"] for t in prompts[0].tools or ()] == ["add", "post_tweet"]
    assert prompts[1].tools is None  # no API class, no tools
    assert prompts[0].is_complex
    assert prompts[2].label == "simple"
    assert prompts[2].prompt == "Book 2 seats to Oslo and tell me the fare."
    assert skipped == {"multi_turn_base": 0, "simple_python": 0}
