from __future__ import annotations

from bench.routing.thresholds import choose

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
    noisy_p = [*P, 0.01, 0.02, 0.97]  # two complex prompts that look simple, one the reverse
    noisy_y = [*Y, True, True, False]
    t = choose(noisy_p, noisy_y, complex_to_small=0.01, simple_to_large=0.0)
    complex_small = sum(
        1 for p, y in zip(noisy_p, noisy_y, strict=True) if y and t.decide(p) == "small"
    )
    simple_large = sum(
        1 for p, y in zip(noisy_p, noisy_y, strict=True) if not y and t.decide(p) == "large"
    )
    assert complex_small <= 1
    assert simple_large == 0
    assert t.small_below <= t.large_at_or_above
