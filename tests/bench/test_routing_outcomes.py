"""The table of a sample's outcomes (bench/routing/outcomes.py): the metric each label's rows
are read by."""

from __future__ import annotations

from bench.routing.outcomes import route_url, table
from bench.routing.traffic import Routed, Tier


def outcome(source: str, kind: str, tier: Tier, local: bool = True, tools: bool = True) -> Routed:
    return Routed(source, kind == "complex", tier, local, tools, kind)


def test_a_row_per_category_then_the_rows_with_tools_of_each_label() -> None:
    decided = [
        outcome("live_simple", "simple", "small"),
        outcome("multi_turn_base", "complex", "large"),
        outcome("parallel", "unlabelled", "small"),
    ]
    # one simple ask and one unlabelled row (without tools) abstained: each settlement's tier
    outcomes = {
        settled: [
            *decided,
            outcome("live_simple", "simple", tier, local=False),
            outcome("parallel", "unlabelled", tier, local=False, tools=False),
        ]
        for settled, tier in (("to large", "large"), ("emulator", "small"), ("to small", "small"))
    }
    rows = table(outcomes, ("live_simple", "multi_turn_base", "parallel", "irrelevance"))
    each = "100.0% / 100.0% / 100.0%"
    half = "50.0% / 100.0% / 100.0%"  # the abstained one counted large, then small twice
    assert rows == [
        ["live_simple", "simple", "2", "2", half, "-", "-", "50.0%"],
        ["multi_turn_base", "complex", "1", "1", "-", each, "-", "100.0%"],
        ["parallel", "unlabelled", "2", "1", "-", "-", half, "50.0%"],
        # irrelevance had no rows: no line
        ["**simple, with tools**", "simple", "2", "2", half, "-", "-", "50.0%"],
        ["**complex, with tools**", "complex", "1", "1", "-", each, "-", "100.0%"],
        ["**unlabelled, with tools**", "unlabelled", "1", "1", "-", "-", each, "100.0%"],
    ]


def test_the_route_endpoint_from_a_base_url_with_or_without_api() -> None:
    assert route_url("http://127.0.0.1:7071/api/") == "http://127.0.0.1:7071/api/route"
    assert route_url("http://127.0.0.1:7071") == "http://127.0.0.1:7071/api/route"


def test_a_group_of_several_labels_reads_each_label_by_its_own_rows() -> None:
    # a simple ask sent small, an unlabelled one sent large: neither metric reads the other's
    rows = [
        outcome("agent", "simple", "small"),
        outcome("agent", "unlabelled", "large"),
        outcome("agent", "complex", "small", tools=False),
    ]
    lines = table({"router": rows}, ("agent",), without_tools=True)
    assert lines == [
        ["agent", "complex/simple/unlabelled", "3", "2", "100.0%", "0.0%", "0.0%", "100.0%"],
        ["**simple, with tools**", "simple", "1", "1", "100.0%", "-", "-", "100.0%"],
        ["**unlabelled, with tools**", "unlabelled", "1", "1", "-", "-", "0.0%", "100.0%"],
        ["**complex, without tools**", "complex", "1", "0", "-", "0.0%", "-", "100.0%"],
    ]
