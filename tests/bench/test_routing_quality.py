"""The quality-track metrics (RouteLLM's CPT and APGR) on hand-checkable inputs."""

from __future__ import annotations

import pytest

from bench.routing import quality
from bench.routing.data import DEFAULT_BENCH_DIR, load

# four prompts: the strong model gains 1.0 on two of them, nothing on the others
WEAK = [0.0, 1.0, 0.0, 1.0]
STRONG = [1.0, 1.0, 1.0, 1.0]


def test_curve_runs_from_all_weak_to_all_strong() -> None:
    c = quality.curve([0.9, 0.1, 0.8, 0.2], WEAK, STRONG)
    assert c.shares == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert c.qualities == (0.5, 0.75, 1.0, 1.0, 1.0)


def test_perfect_order_reaches_the_gap_early() -> None:
    c = quality.curve([0.9, 0.1, 0.8, 0.2], WEAK, STRONG)
    assert quality.cpt(c, 0.5) == 0.25
    assert quality.cpt(c, 0.95) == 0.5
    assert quality.apgr(c) == pytest.approx((0.25 * 0.5 + 0.25 * 1.5 + 0.5 * 2) / 2)


def test_worst_order_needs_everything() -> None:
    c = quality.curve([0.1, 0.9, 0.2, 0.8], WEAK, STRONG)
    assert quality.cpt(c, 0.5) == 0.75
    assert quality.cpt(c, 0.95) == 1.0


def test_ties_move_together() -> None:
    c = quality.curve([0.5, 0.5, 0.5, 0.5], WEAK, STRONG)
    assert c.shares == (0.0, 1.0)
    assert quality.apgr(c) == pytest.approx(0.5)  # a constant score is a random router


def test_oracle_splits_ties_and_puts_losses_last() -> None:
    weak = [0.0, 1.0, 0.5, 1.0]
    strong = [1.0, 0.0, 0.5, 1.0]
    c = quality.oracle_curve(weak, strong)
    assert c.shares == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert max(c.qualities) == pytest.approx(3.5 / 4)  # better than all-strong
    assert c.qualities[-1] == pytest.approx(2.5 / 4)


def test_random_summary() -> None:
    c = quality.curve([0.1, 0.2, 0.3, 0.4], WEAK, STRONG)
    r = quality.random_summary(c, 4)
    assert (r.cpt50, r.cpt80, r.cpt95, r.apgr) == (0.5, 0.8, 0.95, 0.5)
    assert r.q95 == pytest.approx((0.95 - 0.5) / 0.5)


def test_q95_is_relative_to_all_strong() -> None:
    c = quality.curve([0.9, 0.1, 0.8, 0.2], WEAK, STRONG)
    assert quality.share_for_quality(c, 0.95) == 0.5


def test_no_gap_means_no_recovery() -> None:
    c = quality.curve([0.2, 0.1], [1.0, 1.0], [1.0, 1.0])
    assert quality.pgr(c, 1.0) == 0.0


def test_inputs_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="one length"):
        quality.curve([0.1], [0.0, 1.0], [1.0, 1.0])


@pytest.mark.skipif(not (DEFAULT_BENCH_DIR / "quality.jsonl").exists(), reason="no benchmark")
def test_reproduces_the_benchmark_readme() -> None:
    # README: all sources together, an oracle reaches Q95 at c = 0.087, a random router at 0.68
    prompts = load(DEFAULT_BENCH_DIR / "quality.jsonl")
    weak = [p.weak or 0.0 for p in prompts]
    strong = [p.strong or 0.0 for p in prompts]
    oracle = quality.oracle_curve(weak, strong)
    assert quality.share_for_quality(oracle, 0.95) == pytest.approx(0.087, abs=0.001)
    assert quality.random_summary(oracle, len(prompts)).q95 == pytest.approx(0.68, abs=0.005)
