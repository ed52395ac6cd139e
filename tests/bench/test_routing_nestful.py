"""NESTFUL rows as the OpenAI chat requests an agent sends (bench/routing/nestful.py)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from bench import unseen_chains
from bench.routing import nestful


def spec(name: str, required: bool = True) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"{name} does one thing.",
        "query_parameters": {
            "query": {"type": "string", "required": required, "description": "What to find."},
            "limit": {"type": "int", "description": "At most this many."},
        },
    }


CATALOG = [spec("Sky.SearchAirport"), spec("SkyFlightSearch")] + [
    spec(f"Other{i}", required=False) for i in range(10)
]
ROW = {
    "input": "Find flights from Oslo to Rome on May 2.",
    "output": [
        {"name": "Sky.SearchAirport", "arguments": {"query": "Oslo"}, "label": "var1"},
        {"name": "Sky.SearchAirport", "arguments": {"query": "Rome"}, "label": "var2"},
        {"name": "SkyFlightSearch", "arguments": {"from": "$var1.skyId$"}, "label": "var3"},
        {"name": "var_result", "arguments": {"flights": "$var3$"}},
    ],
}


def wheel(tmp_path: Path) -> Path:
    path = tmp_path / nestful.WHEEL
    with zipfile.ZipFile(path, "w") as archive:
        for stem in nestful.SUBSETS.values():
            archive.writestr(f"{stem}-data.json", json.dumps([ROW, ROW]))
            archive.writestr(f"{stem}-spec.json", json.dumps(CATALOG))
    return path


def names(prompt: Any) -> list[str]:
    return [t["function"]["name"] for t in prompt.body["tools"]]


def test_every_row_is_a_chain_read_three_ways(tmp_path: Path) -> None:
    prompts = nestful.read_wheel(wheel(tmp_path))
    assert len(prompts) == len(nestful.SUBSETS) * len(nestful.SETTINGS) * 2
    assert {p.label for p in prompts} == {"complex"}
    by_setting = {p.category: p for p in prompts if p.source.startswith("executable")}
    # the functions the reference calls, each once, in order; the result step is not a call
    assert names(by_setting[nestful.GOLD]) == ["Sky_SearchAirport", "SkyFlightSearch"]
    eight = names(by_setting[nestful.TO_EIGHT])
    assert len(eight) == nestful.OFFERED == len(set(eight))
    assert {"Sky_SearchAirport", "SkyFlightSearch"} <= set(eight)
    assert len(names(by_setting[nestful.CATALOG])) == len(CATALOG)
    assert by_setting[nestful.GOLD].body["messages"] == [{"role": "user", "content": ROW["input"]}]


def test_a_catalog_entry_becomes_an_openai_function_tool() -> None:
    tool = nestful.openai_tool(spec("Real-Time.Search"))
    assert tool["function"]["name"] == "Real-Time_Search"
    parameters = tool["function"]["parameters"]
    assert parameters["required"] == ["query"]
    assert parameters["properties"]["limit"]["type"] == "string"  # "int" is no JSON type


def test_the_report_gives_complex_recall_per_subset_and_setting(
    tmp_path: Path, capsys: Any
) -> None:
    unseen_chains.main(["--wheel", str(wheel(tmp_path)), "--out", str(tmp_path / "out")])
    report = (tmp_path / "out" / "unseen-chains.md").read_text()
    assert report == capsys.readouterr().out.rstrip("\n") + "\n"
    for setting in nestful.SETTINGS:
        assert f"| executable, {setting} | complex | 2 | 2 |" in report
