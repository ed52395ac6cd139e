"""The evaluation CLI end to end on a few real prompts (fast: --limit)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bench import eval_routing
from bench.routing.data import DEFAULT_AGENT_DIR, DEFAULT_BENCH_DIR, Prompt
from shared.routing.cache import TtlCache
from shared.routing.classifier import Classifier
from shared.routing.policy import RoutingPolicy
from shared.settings import load_settings
from tests.conftest import EMULATOR_KEY, Emulator

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
    assert "### Agent turns per turn kind" in report
    assert "| with tools |" in report
    assert "### Tool-result turns, per-turn" in report
    assert "### Plain prompts with a tool list attached" in report
    assert not (tmp_path / "routing-curves.png").exists()


def test_model_modes_need_an_endpoint() -> None:
    with pytest.raises(SystemExit):
        eval_routing.main(["--mode", "policy"])


class FakeSmallModel:
    """The classifier's small model for the test: counts what it is asked, answers `label`."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.asked: list[str] = []

    async def ask(self, body: dict[str, Any]) -> str:
        self.asked.append(body["messages"][-1]["content"])
        return self.label


ENV = {"FOUNDRY_ENDPOINT": "http://placeholder.invalid", "FOUNDRY_API_KEY": "placeholder"}


def real_policy(preset: str, small_model: FakeSmallModel) -> RoutingPolicy:
    """The router's RoutingPolicy and Classifier, only the model call replaced."""
    settings = load_settings({**ENV, "ROUTER_PRESET": preset})
    classifier = Classifier(small_model.ask, 2.0, TtlCache(60, 100))
    return RoutingPolicy(settings, classifier, TtlCache(60, 100))


def plain(text: str, label: str) -> Prompt:
    return Prompt(text[:8], "s", "", text, label=label)


# Real scores of the shipped scorer, against balanced's band [0.054, 0.116):
CLEARLY_SMALL = plain("hi", "simple")  # 0.000
IN_BAND = plain("Explain the difference between a mutex and a semaphore", "simple")  # 0.087
CLEARLY_LARGE = plain(  # 0.987
    "Plan a three-week migration of our monolith to microservices: list the services, the "
    "order of extraction, the data migration steps, the rollback plan for each step, and the "
    "risks, then write a test strategy for each phase and estimate the effort per team.",
    "complex",
)


@pytest.mark.parametrize(("answer", "in_band_tier"), [("simple", "small"), ("complex", "large")])
def test_policy_asks_the_classifier_only_inside_the_band(answer: str, in_band_tier: str) -> None:
    small_model = FakeSmallModel(answer)
    policy = real_policy("balanced", small_model)
    prompts = [CLEARLY_SMALL, IN_BAND, CLEARLY_LARGE]
    routed, latencies, decided_by = asyncio.run(
        eval_routing.model_routing(prompts, policy, concurrency=2)
    )
    assert small_model.asked == [IN_BAND.prompt]  # describe_turn of a plain prompt: its text
    assert [(r.tier, r.local) for r in routed] == [
        ("small", True),
        (in_band_tier, False),
        ("large", True),
    ]
    assert len(latencies) == 3
    assert decided_by == {"scorer": 2, "classifier": 1}


def test_a_failing_classifier_means_the_safe_default() -> None:
    class Down(FakeSmallModel):
        async def ask(self, body: dict[str, Any]) -> str:
            raise ConnectionError("no classifier")

    routed, _, decided_by = asyncio.run(
        eval_routing.model_routing([IN_BAND], real_policy("balanced", Down("")), concurrency=1)
    )
    assert [(r.tier, r.local) for r in routed] == [("large", False)]
    assert decided_by == {"default": 1}


def test_the_classifier_preset_asks_about_every_prompt() -> None:
    small_model = FakeSmallModel("simple")
    prompts = [CLEARLY_SMALL, IN_BAND, CLEARLY_LARGE]
    routed, _, _ = asyncio.run(
        eval_routing.model_routing(prompts, real_policy("classifier", small_model), concurrency=2)
    )
    assert sorted(small_model.asked) == sorted(p.prompt for p in prompts)
    assert [(r.tier, r.local) for r in routed] == [("small", False)] * 3


@needs_bench
def test_classifier_mode_asks_the_emulator(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model modes' wiring over real HTTP: every prompt reaches the classifier deployment."""
    monkeypatch.setenv("FOUNDRY_API_KEY", EMULATOR_KEY)
    args = ["--mode", "classifier", "--endpoint", emulator.url, "--split", "heldout"]
    eval_routing.main([*args, "--limit", "10", "--out-dir", str(tmp_path), "--no-plot"])
    asked = emulator.requests()
    assert len(asked) >= 10  # 10 routing-bench rows and 10 agent turns, less the cache hits
    settings = load_settings(ENV)
    assert {r["deployment"] for r in asked} == {
        settings.tier(settings.routing.classifier_tier).deployment
    }
    report = (tmp_path / "routing-report.md").read_text()
    assert "### Traffic track per source (classifier only, routing-bench)" in report
    assert "### Traffic track per source (classifier only, agent-bench)" in report
