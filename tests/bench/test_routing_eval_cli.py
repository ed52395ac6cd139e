"""The evaluation CLI end to end on a few real prompts (fast: --limit)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench import eval_routing
from bench.routing.data import DEFAULT_AGENT_DIR, DEFAULT_BENCH_DIR, Prompt
from bench.routing.deciders import tier_of
from shared.routing.presets import PRESETS

needs_bench = pytest.mark.skipif(
    not (DEFAULT_BENCH_DIR / "traffic.jsonl").exists()
    or not (DEFAULT_AGENT_DIR / "traffic.jsonl").exists(),
    reason="no benchmark",
)


@needs_bench
def test_scorer_mode_writes_the_report(tmp_path: Path) -> None:
    args = ["--split", "heldout", "--limit", "40", "--out-dir", str(tmp_path), "--no-plot"]
    eval_routing.main(args)
    report = (tmp_path / "routing-report.md").read_text()
    assert "## Split: heldout" in report
    assert "CPT(95%)" in report
    assert "| balanced |" in report
    assert "### Agent turns per source" in report
    assert "| with tools |" in report
    assert "### Tool-result turns, per-turn" in report
    assert "### Plain prompts with a tool list attached" in report
    assert not (tmp_path / "routing-curves.png").exists()


def test_model_modes_need_an_endpoint() -> None:
    with pytest.raises(SystemExit):
        eval_routing.main(["--mode", "policy"])


def test_classifier_answers_map_to_tiers() -> None:
    class Verdict:
        def __init__(self, label: str | None) -> None:
            self.label = label

    assert tier_of("simple") == "small"
    assert tier_of("complex") == "large"
    assert tier_of(Verdict("simple")) == "small"
    assert tier_of(Verdict(None)) == "large"  # timeout or error: the safe default


class LengthClassifier:
    """A deterministic classifier for the test: long prompts are complex."""

    def __init__(self) -> None:
        self.calls = 0

    async def classify(self, text: str) -> str:
        self.calls += 1
        return "complex" if len(text) > 20 else "simple"


def test_policy_asks_the_classifier_only_inside_the_band() -> None:
    prompts = [
        Prompt("a", "s", "", "hi", label="simple"),
        Prompt("b", "s", "", "a borderline request of some length", label="complex"),
        Prompt("c", "s", "", "another", label="simple"),
    ]
    band = PRESETS["balanced"]
    inside = (band.small_below + band.large_at_or_above) / 2
    scores = {
        "a": eval_routing.Scored(0.0),
        "b": eval_routing.Scored(inside),
        "c": eval_routing.Scored(1.0),
    }
    classifier = LengthClassifier()
    routed, latencies = asyncio.run(
        eval_routing.model_routing(
            prompts, scores, classifier, use_scorer=True, preset="balanced", concurrency=2
        )
    )
    assert classifier.calls == 1  # only one score is inside balanced's band
    assert [(r.tier, r.local) for r in routed] == [
        ("small", True),
        ("large", False),
        ("large", True),
    ]
    assert len(latencies) == 3
    classifier_only = asyncio.run(
        eval_routing.model_routing(
            prompts, scores, LengthClassifier(), use_scorer=False, preset="balanced", concurrency=2
        )
    )[0]
    assert [r.local for r in classifier_only] == [False, False, False]
