"""Calibration of a probability against 0/1 outcomes: Brier score and a reliability table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

DEFAULT_EDGES: tuple[float, ...] = (0.0, 0.01, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99, 1.0)


def brier(p: Sequence[float], outcome: Sequence[bool]) -> float:
    if not p or len(p) != len(outcome):
        raise ValueError("p and outcome must be non-empty and of one length")
    return sum((pi - float(o)) ** 2 for pi, o in zip(p, outcome, strict=True)) / len(p)


@dataclass(frozen=True, slots=True)
class Bin:
    low: float
    high: float
    n: int
    mean_p: float  # mean predicted probability in the bin
    observed: float  # share of positive outcomes in the bin


def reliability(
    p: Sequence[float], outcome: Sequence[bool], edges: Sequence[float] = DEFAULT_EDGES
) -> list[Bin]:
    """Bins [low, high) (the last one closed) with their mean prediction and observed rate."""
    bins: list[Bin] = []
    for i, (low, high) in enumerate(pairwise(edges)):
        last = i == len(edges) - 2
        members = [
            (pi, o)
            for pi, o in zip(p, outcome, strict=True)
            if low <= pi < high or (last and pi == high)
        ]
        if members:
            mean_p = sum(pi for pi, _ in members) / len(members)
            observed = sum(1 for _, o in members if o) / len(members)
            bins.append(Bin(low, high, len(members), mean_p, observed))
    return bins


def expected_calibration_error(bins: Sequence[Bin]) -> float:
    total = sum(b.n for b in bins)
    return sum(b.n * abs(b.mean_p - b.observed) for b in bins) / total if total else 0.0
