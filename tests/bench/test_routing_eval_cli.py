"""The evaluation CLI end to end on a few real prompts (fast: --limit)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import eval_routing
from bench.routing.data import DEFAULT_BENCH_DIR
from bench.routing.deciders import tier_of

needs_bench = pytest.mark.skipif(
    not (DEFAULT_BENCH_DIR / "traffic.jsonl").exists(), reason="no benchmark"
)


@needs_bench
def test_scorer_mode_writes_report_and_plot(tmp_path: Path) -> None:
    eval_routing.main(["--split", "heldout", "--limit", "40", "--out-dir", str(tmp_path)])
    report = (tmp_path / "routing-report.md").read_text()
    assert "## Split: heldout" in report
    assert "CPT(95%)" in report
    assert "| balanced |" in report
    assert (tmp_path / "routing-curves.png").stat().st_size > 1000


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
