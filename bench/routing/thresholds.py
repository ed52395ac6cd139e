"""Choosing a preset's thresholds from scored, labelled prompts."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.stats import beta

from shared.routing.presets import Thresholds


def _round_down(x: float, digits: int = 3) -> float:
    return math.floor(x * 10**digits) / 10**digits


def _round_up(x: float, digits: int = 3) -> float:
    return math.ceil(x * 10**digits) / 10**digits


def quantile(scores: Sequence[float], q: float) -> float:
    """The Harrell-Davis estimate of the q-quantile: a weighted mean of every order statistic.

    A budget of 0.5% of 1,500 complex prompts sits on the 8th-lowest score, which moves with a
    single prompt (0.026 or 0.032 between two trainings that differ in one feature); weighting
    the neighbouring scores as well keeps the band where the tail is, not where one row is.
    q = 0 and q = 1 are the extremes: a budget of nothing means nothing beyond the last score."""
    x = np.sort(np.asarray(scores, dtype=float))
    if q <= 0.0:
        return float(x[0])
    if q >= 1.0:
        return float(x[-1])
    n = len(x)
    edges = beta.cdf(np.arange(n + 1) / n, (n + 1) * q, (n + 1) * (1 - q))
    return float(np.diff(edges) @ x)


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
    between goes to the classifier.
    """
    complex_scores = [p for p, c in zip(p_large, is_complex, strict=True) if c]
    simple_scores = [p for p, c in zip(p_large, is_complex, strict=True) if not c]
    if not complex_scores or not simple_scores:
        raise ValueError("need both simple and complex prompts")
    small_below = quantile(complex_scores, complex_to_small)
    large_at = quantile(simple_scores, 1 - simple_to_large)
    if simple_to_large <= 0.0:  # at or above: strictly beyond the highest simple score
        large_at = math.nextafter(large_at, 2.0)
    small_below, large_at = _round_down(small_below), min(1.0, _round_up(large_at))
    if small_below > large_at:  # the budgets overlap: one cut, no abstain band
        small_below = large_at = _round_down((small_below + large_at) / 2)
    return Thresholds(small_below=small_below, large_at_or_above=large_at)
