from __future__ import annotations

import random

from bench.routing.thresholds import beta_cdf, choose, quantile

# 100 simple prompts scoring 0.00 .. 0.99 / 10, 100 complex ones scoring 0.5 .. 0.995
SIMPLE = [i / 1000 for i in range(100)]
COMPLEX = [0.5 + i / 200 for i in range(100)]
P = SIMPLE + COMPLEX
Y = [False] * 100 + [True] * 100


def test_separable_scores_need_no_band() -> None:
    t = choose(P, Y, complex_to_small=0.0, simple_to_large=0.0)
    assert t.small_below <= 0.5
    assert t.large_at_or_above > 0.099
    assert all(t.decide(p) == "large" for p in COMPLEX)
    assert all(t.decide(p) == "small" for p in SIMPLE)


def test_budgets_bound_the_local_errors() -> None:
    rng = random.Random(0)
    # 2,000 of each kind, overlapping tails: 2% of complex prompts look simple, 2% the reverse
    simple = [
        rng.uniform(0.0, 0.3) if rng.random() > 0.02 else rng.uniform(0.3, 1.0) for _ in range(2000)
    ]
    complex_ = [
        rng.uniform(0.6, 1.0) if rng.random() > 0.02 else rng.uniform(0.0, 0.6) for _ in range(2000)
    ]
    t = choose(
        simple + complex_,
        [False] * 2000 + [True] * 2000,
        complex_to_small=0.005,
        simple_to_large=0.01,
    )
    complex_small = sum(1 for p in complex_ if t.decide(p) == "small")
    simple_large = sum(1 for p in simple if t.decide(p) == "large")
    # a smoothed quantile: the budget holds to within sampling error (10 and 20 expected)
    assert complex_small <= 15
    assert simple_large <= 28
    assert 0.0 < t.small_below <= t.large_at_or_above < 1.0


def test_quantile_weights_the_neighbours_of_the_order_statistic() -> None:
    scores = [i / 1000 for i in range(1000)]
    assert abs(quantile(scores, 0.25) - 0.25) < 0.002
    assert quantile(scores, 0.0) == 0.0
    assert quantile(scores, 1.0) == 0.999
    # one outlier far below the tail moves the estimate by a fraction of its own move
    tail = [0.1] * 10 + [0.5] * 990
    shifted = [0.0, *tail[1:]]
    assert 0.0 < quantile(tail, 0.005) - quantile(shifted, 0.005) < 0.05


def test_beta_cdf_matches_its_closed_forms() -> None:
    for x in (0.001, 0.2, 0.5, 0.77, 0.999):
        assert abs(beta_cdf(x, 1, 1) - x) < 1e-12
        assert abs(beta_cdf(x, 7.5, 1) - x**7.5) < 1e-12
        assert abs(beta_cdf(x, 1, 3000) - (1 - (1 - x) ** 3000)) < 1e-12
        assert abs(beta_cdf(x, 4, 9) + beta_cdf(1 - x, 9, 4) - 1) < 1e-12  # symmetry
    assert beta_cdf(0.0, 2, 2) == 0.0
    assert beta_cdf(1.0, 2, 2) == 1.0
