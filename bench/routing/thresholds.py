"""Choosing a preset's thresholds from scored, labelled prompts."""

from __future__ import annotations

import math
from collections.abc import Sequence

from shared.routing.presets import Thresholds


def _round_down(x: float, digits: int = 3) -> float:
    return math.floor(x * 10**digits) / 10**digits


def _round_up(x: float, digits: int = 3) -> float:
    return math.ceil(x * 10**digits) / 10**digits


def choose(
    p_large: Sequence[float],
    is_complex: Sequence[bool],
    *,
    complex_to_small: float,
    simple_to_large: float,
) -> Thresholds:
    """The widest local bands whose own errors stay within budget.

    small_below: as high as possible while at most `complex_to_small` of complex prompts
    score below it; large_at_or_above: as low as possible while at most `simple_to_large` of
    simple prompts score at or above it. Everything between goes to the classifier.
    """
    complex_scores = sorted(p for p, c in zip(p_large, is_complex, strict=True) if c)
    simple_scores = sorted(
        (p for p, c in zip(p_large, is_complex, strict=True) if not c), reverse=True
    )
    if not complex_scores or not simple_scores:
        raise ValueError("need both simple and complex prompts")
    # at most k complex prompts strictly below small_below: the (k+1)-th lowest score bounds it
    k = math.floor(complex_to_small * len(complex_scores))
    small_below = complex_scores[min(k, len(complex_scores) - 1)]
    # at most m simple prompts at or above: just above the (m+1)-th highest simple score
    m = math.floor(simple_to_large * len(simple_scores))
    large_at = math.nextafter(simple_scores[min(m, len(simple_scores) - 1)], 2.0)
    small_below, large_at = _round_down(small_below), min(1.0, _round_up(large_at))
    if small_below > large_at:  # the budgets overlap: one cut, no abstain band
        small_below = large_at = _round_down((small_below + large_at) / 2)
    return Thresholds(small_below=small_below, large_at_or_above=large_at)
