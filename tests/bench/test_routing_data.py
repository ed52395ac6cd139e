from __future__ import annotations

import json

from bench.routing.augment import with_tool_lists
from bench.routing.data import Prompt, by_source, parse_line, select, split_of


def test_split_is_deterministic_and_about_seventy_thirty() -> None:
    ids = [f"src/{i}" for i in range(2000)]
    sides = [split_of(i) for i in ids]
    assert sides == [split_of(i) for i in ids]
    share = sides.count("tune") / len(sides)
    assert 0.66 < share < 0.74


def test_parse_traffic_and_quality_lines() -> None:
    t = parse_line(
        json.dumps({"id": "a/1", "source": "a", "category": "c", "prompt": "hi", "label": "simple"})
    )
    assert t == Prompt("a/1", "a", "c", "hi", label="simple")
    assert not t.is_complex
    q = parse_line(
        json.dumps(
            {"id": "b/1", "source": "b", "category": "c", "prompt": "x", "weak": 0, "strong": 1}
        )
    )
    assert (q.weak, q.strong, q.label) == (0.0, 1.0, None)


def test_select_and_group() -> None:
    prompts = [Prompt(f"s{i % 2}/{i}", f"s{i % 2}", "", "p") for i in range(50)]
    tune, heldout = select(prompts, "tune"), select(prompts, "heldout")
    assert len(tune) + len(heldout) == 50
    assert not {p.id for p in tune} & {p.id for p in heldout}
    assert select(prompts, "all") == prompts
    assert set(by_source(prompts)) == {"s0", "s1"}


def test_a_salt_gives_another_split() -> None:
    ids = [f"src/{i}" for i in range(200)]
    assert [split_of(i) for i in ids] != [split_of(i, "a") for i in ids]
    assert [split_of(i, "a") for i in ids] == [split_of(i, "a") for i in ids]


def test_agent_rows_keep_their_whole_request() -> None:
    body = {
        "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "f"}}],
    }
    row = {"id": "a/1", "source": "a", "category": "", "prompt": "hi", "label": "simple"}
    agent = parse_line(json.dumps({**row, "body": body}))
    assert (agent.messages, agent.tools, agent.has_tools) == (body["messages"], body["tools"], True)
    plain = parse_line(json.dumps(row))
    assert plain.messages == ({"role": "user", "content": "hi"},)
    assert (plain.tools, plain.has_tools) == (None, False)


def test_tool_lists_are_attached_to_a_third_of_the_plain_prompts() -> None:
    tools = [{"type": "function", "function": {"name": "lookup"}}]
    agent = Prompt("t/0", "t", "", "x", "simple", body={"messages": [], "tools": tools})
    plain = [Prompt(f"p/{i}", "p", "", f"ask {i}", "complex") for i in range(300)]
    out = with_tool_lists([agent, *plain])
    assert out[0] is agent
    changed = [p for p in out[1:] if p.has_tools]
    assert 0.25 < len(changed) / len(plain) < 0.42
    for p in changed:  # the same ask and label, with the tools of another row
        assert list(p.messages) == [{"role": "user", "content": p.prompt}]
        assert (p.label, p.tools) == ("complex", tools)
    assert with_tool_lists(plain) == plain  # no tool rows, nothing to attach
