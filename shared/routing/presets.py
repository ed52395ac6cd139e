"""Routing presets: how sure the local scorer must be before it decides without the classifier."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Thresholds:
    small_below: float
    large_at_or_above: float


PRESETS: Mapping[str, Thresholds] = {
    "cost": Thresholds(small_below=0.5, large_at_or_above=0.8),
    "balanced": Thresholds(small_below=0.3, large_at_or_above=0.7),
    "quality": Thresholds(small_below=0.15, large_at_or_above=0.5),
    # The seed's behaviour: the small model classifies every routed request, the scorer never.
    "classifier": Thresholds(small_below=0.0, large_at_or_above=1.01),
}
