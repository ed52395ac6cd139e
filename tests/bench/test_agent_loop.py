"""The agent-loop benchmark's mix and report (the run itself is bench/agent_loop.py)."""

from __future__ import annotations

import pytest

from bench import agent_loop
from bench.agent_loop import MODES, STEPS, Run, report


def test_the_mix_is_ten_calls_mostly_simple_with_one_planning_step() -> None:
    assert len(STEPS) == 10
    assert [s.ideal for s in STEPS].count("large") == 1
    kinds = {s.kind for s in STEPS}
    assert {"pick a tool", "read a short tool result", "planning", "formatting"} <= kinds
    for i, step in enumerate(STEPS):  # a result is read right after the call that asked for it
        if step.user is None:
            assert STEPS[i - 1].kind == "pick a tool"
    assert len(agent_loop.TOOLS) == 6


def test_a_longer_tool_list_keeps_the_loops_own_tools_first() -> None:
    tools = agent_loop.tool_list(30)
    names = [t["function"]["name"] for t in tools]
    assert len(set(names)) == 30
    assert tools[:6] == agent_loop.TOOLS
    assert agent_loop.tool_list(6) == agent_loop.TOOLS
    with pytest.raises(ValueError, match="--tools"):
        agent_loop.tool_list(5)


def run(tiers: list[str], wall: float, cost: float) -> Run:
    return Run(wall, cost, tiers, ["scorer"] * len(tiers))


def test_the_report_compares_modes_and_names_complex_steps_sent_small() -> None:
    ideal = [agent_loop.ideal_tier(s) for s in STEPS]
    assert ideal.count("small-tools") == 9  # every call carries tools: Phi-4-mini takes none
    wrong = ["small-tools"] * len(STEPS)
    runs = {
        "all large": [run(["large"] * 10, 12.0, 0.02)],
        "all small": [run(wrong, 1.0, 0.001)],
        "routed": [run(wrong, 1.0, 0.001)],
        "routed, answer after the verdict": [run(ideal, 2.4, 0.003)],
        "ideal": [run(ideal, 2.0, 0.003)],
        "routed, broken small answers": [Run(2.6, 0.0045, ideal, ["scorer"] * 10, 4, 0)],
    }
    assert set(runs) == set(MODES)
    text = report(runs, 1, "test")
    assert "| ideal | 2.00 |" in text
    assert "6.00x" in text  # all large is six times the ideal loop's time
    assert "| ideal | 2.00 | $3.000 | 1.00x | 1.00x | 6.00x | 9 small / 1 large |" in text
    assert "complex steps sent small: step 6 (planning) in round 1" in text
    assert "4 escalated of 4 broken, 0 reached the agent broken" in text
    assert agent_loop.FAULTS.keys() <= {i for i, s in enumerate(STEPS) if s.ideal == "small"}
    assert "| routed, answer after the verdict | 2.40 | $3.000 | 1.20x |" in text
    # two steps left to the classifier: one answered small, one large (its guess dropped)
    classified = Run(2.0, 0.003, ideal, ["scorer"] * 10)
    classified.decided_by[0] = classified.decided_by[5] = "classifier"
    runs["routed"] = [classified]
    text = report(runs, 1, "test")
    assert "complex steps sent small: none" in text
    assert "decided: 2 in 1 routed loops, 1 dropped for a complex verdict" in text
