"""bench/route_sample.py: a sample of your own traffic read, checked and reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.route_sample import SampleError, main, parse_sample, report, sent_body
from bench.routing.outcomes import by_scorer

WEATHER = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The current weather in a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def ask(text: str, **own: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": text}], **own}


SAMPLE = [
    ask("hi", label="simple", group="support bot"),
    ask("thanks!", group="support bot"),  # unlabelled
    ask("Write a Python function that merges two sorted lists", label="complex", group="coder"),
    {**ask("What's the weather in Paris?", label="simple", group="agent"), "tools": WEATHER},
]


def lines(rows: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(row) for row in rows]


def test_each_line_is_a_request_body_with_its_label_and_group_set_aside() -> None:
    prompts = parse_sample([*lines(SAMPLE[:2]), "", *lines(SAMPLE[2:])])
    assert [p.source for p in prompts] == ["support bot", "support bot", "coder", "agent"]
    assert [p.label for p in prompts] == ["simple", None, "complex", "simple"]
    assert [p.id for p in prompts] == ["line 1", "line 2", "line 4", "line 5"]
    # the body is what the client sent, without the sample's own keys
    assert prompts[3].body == {k: v for k, v in SAMPLE[3].items() if k not in ("label", "group")}
    assert prompts[3].has_tools
    assert not prompts[0].has_tools
    assert parse_sample(lines([ask("hi")]))[0].source == "your traffic"


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("{not json", "line 1: not JSON"),
        ('{"prompt": "hi"}', "line 1: not a request body"),
        ('["hi"]', "line 1: not a request body"),
        ('{"messages": "hi"}', "line 1: .*'messages'"),
        ('{"messages": [{"role": "user"}]}', "line 1: .*content"),
        ('{"messages": ["hi"]}', "line 1: .*messages"),
        ('{"input": 3}', "line 1: .*input"),
        ('{"input": "hi", "previous_response_id": "resp_1"}', "line 1: previous_response_id"),
        ('{"input": [{"type": "item_reference", "id": "msg_1"}]}', "line 1: .*item_reference"),
        (json.dumps(ask("hi", label="easy")), "line 1: label must be simple or complex"),
        (json.dumps(ask("hi", group=3)), "line 1: group must be a non-empty string"),
        (json.dumps({**ask("hi"), "tools": {"a": 1}}), "line 1: .*'tools'"),
    ],
)
def test_a_line_that_is_not_a_request_body_is_named(line: str, error: str) -> None:
    with pytest.raises(SampleError, match=error):
        parse_sample([line])


def test_an_empty_sample_is_an_error() -> None:
    with pytest.raises(SampleError, match="no requests"):
        parse_sample(["", "  "])


def row_of(text: str, name: str) -> list[str]:
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == name:
            return cells
    raise AssertionError(f"no row {name!r} in:\n{text}")


def test_the_report_reads_each_label_by_its_own_metric(tmp_path: Path) -> None:
    sample = tmp_path / "sample.jsonl"
    sample.write_text("\n".join(lines(SAMPLE)) + "\n")
    prompts = parse_sample(sample.read_text().splitlines())
    text = report(prompts, None, "balanced")
    assert text.startswith("4 requests; the shipped scorer, preset `balanced`")
    # small talk stays small and an ask for code goes large by rule, whatever settles the band
    each = "100.0% / 100.0% / 100.0%"
    assert row_of(text, "support bot") == [
        "support bot", "simple/unlabelled", "2", "0", each, "-", each, "100.0%"
    ]  # fmt: skip
    assert row_of(text, "coder")[4:6] == ["-", each]
    assert row_of(text, "**simple, without tools**")[2:5] == ["1", "0", each]
    assert row_of(text, "**complex, without tools**")[2:4] == ["1", "0"]
    agent = row_of(text, "**simple, with tools**")
    outcomes = by_scorer(prompts[3:])
    expected = " / ".join("100.0%" if rs[0].tier == "small" else "0.0%" for rs in outcomes.values())
    assert agent[2:5] == ["1", "1", expected]
    assert "Write a Python" not in text
    assert "Paris" not in text


def test_the_command_exits_with_the_line_that_is_wrong(tmp_path: Path) -> None:
    sample = tmp_path / "sample.jsonl"
    sample.write_text(json.dumps(ask("hi")) + "\n" + '{"prompt": "hi"}\n')
    with pytest.raises(SystemExit, match="line 2: not a request body"):
        main([str(sample)])


def test_a_preset_is_the_scorers_not_a_running_routers(tmp_path: Path) -> None:
    sample = tmp_path / "sample.jsonl"
    sample.write_text(json.dumps(ask("hi")))
    with pytest.raises(SystemExit):
        main([str(sample), "--preset", "cost", "--endpoint", "http://127.0.0.1:9/api"])


def test_a_responses_body_is_read_as_the_router_reads_it() -> None:
    responses = {
        "model": "gpt-4o",
        "instructions": "You are a weather assistant.",
        "input": "What's the weather in Paris?",
        "tools": [{"type": "function", **WEATHER[0]["function"]}],
        "label": "simple",
    }
    chat = {
        "messages": [
            {"role": "system", "content": "You are a weather assistant."},
            {"role": "user", "content": "What's the weather in Paris?"},
        ],
        "tools": WEATHER,
        "label": "simple",
    }
    read, sent = parse_sample(lines([responses, chat]))
    assert read.label == "simple"
    assert [m["role"] for m in read.messages] == ["system", "user"]
    assert read.tools is not None
    assert [t["function"]["name"] for t in read.tools] == ["get_weather"]
    assert by_scorer([read]) == by_scorer([sent])


def test_a_responses_body_with_a_built_in_tool_is_a_tool_request() -> None:
    # as the router reads it: any kind of tool makes it a tool request
    web = {"input": "Any news about Azure today?", "tools": [{"type": "web_search"}]}
    (read,) = parse_sample(lines([web]))
    assert read.has_tools
    assert sent_body(read) == web  # what a running router is sent
