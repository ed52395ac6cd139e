"""Choosing a preset's thresholds from scored, labelled prompts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

from shared.routing.presets import Thresholds
from shared.routing.rules import SOFT_FLOOR


def _round_down(x: float, digits: int = 3) -> float:
    scale = 10.0**digits
    return math.floor(x * scale) / scale


def _round_up(x: float, digits: int = 3) -> float:
    scale = 10.0**digits
    return math.ceil(x * scale) / scale


def quantile(scores: Sequence[float], q: float) -> float:
    """The Harrell-Davis estimate of the q-quantile: a weighted mean of every order statistic.

    A budget of 0.5% of 1,500 complex prompts sits on the 8th-lowest score, which moves with a
    single prompt (0.026 or 0.032 between two trainings that differ in one feature); weighting
    the neighbouring scores as well keeps the band where the tail is, not where one row is.
    q = 0 and q = 1 are the extremes: a budget of nothing means nothing beyond the last score."""
    x = sorted(scores)
    if q <= 0.0:
        return x[0]
    if q >= 1.0:
        return x[-1]
    n = len(x)
    a, b = (n + 1) * q, (n + 1) * (1 - q)
    edges = [beta_cdf(i / n, a, b) for i in range(n + 1)]
    return sum((hi - lo) * v for (lo, hi), v in zip(pairwise(edges), x, strict=True))


def beta_cdf(x: float, a: float, b: float) -> float:
    """The regularised incomplete beta function I_x(a, b), by its continued fraction (Numerical
    Recipes' betacf, modified Lentz): pure Python, so the tests need no scipy."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = a * math.log(x) + b * math.log1p(-x) - math.log(a) - _log_beta(a, b)
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _continued_fraction(x, a, b)
    return 1.0 - math.exp(log_front + math.log(a) - math.log(b)) * _continued_fraction(1 - x, b, a)


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _continued_fraction(x: float, a: float, b: float, steps: int = 300) -> float:
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, steps + 1):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-12:
            break
    return h


def choose(
    p_large: Sequence[float],
    is_complex: Sequence[bool],
    *,
    complex_to_small: float,
    simple_to_large: float,
) -> Thresholds:
    """The widest local bands whose own errors stay within budget.

    small_below: the `complex_to_small` quantile of the complex prompts' scores (about that
    share of them score below it); large_at_or_above: the `1 - simple_to_large` quantile of
    the simple prompts' scores, just above the highest when that budget is 0. Everything
    between goes to the classifier. The large threshold is at most the product rules' soft
    floor, so that a rule's verdict is local under every preset.
    """
    complex_scores = [p for p, c in zip(p_large, is_complex, strict=True) if c]
    simple_scores = [p for p, c in zip(p_large, is_complex, strict=True) if not c]
    if not complex_scores or not simple_scores:
        raise ValueError("need both simple and complex prompts")
    small_below = quantile(complex_scores, complex_to_small)
    large_at = quantile(simple_scores, 1 - simple_to_large)
    if simple_to_large <= 0.0:  # at or above: strictly beyond the highest simple score
        large_at = math.nextafter(large_at, 2.0)
    small_below, large_at = _round_down(small_below), min(SOFT_FLOOR, _round_up(large_at))
    if small_below > large_at:  # the budgets overlap: one cut, no abstain band
        small_below = large_at = _round_down((small_below + large_at) / 2)
    return Thresholds(small_below=small_below, large_at_or_above=large_at)
