"""Routing presets: where the local scorer decides alone and where it asks the classifier.

Named after Azure AI Foundry model-router's modes. The values come from
bench/train_scorer.py (it prints them), chosen on out-of-fold scores of the tune split only;
bench/ROUTING.md reports what they do on the held-out split.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

LocalDecision = Literal["small", "large", "abstain"]


@dataclass(frozen=True, slots=True)
class Thresholds:
    small_below: float  # p_large < small_below -> small tier, decided locally
    large_at_or_above: float  # p_large >= this -> large tier, decided locally; between: abstain

    def __post_init__(self) -> None:
        # large_at_or_above may exceed 1: "never large without the classifier"
        if not 0.0 <= self.small_below <= 1.0 or self.large_at_or_above < self.small_below:
            raise ValueError("need 0 <= small_below <= 1 and small_below <= large_at_or_above")

    def decide(self, p_large: float, unfamiliar: bool = False) -> LocalDecision:
        """The local decision; "abstain" means the small-model classifier decides (always for
        a request unlike the training data: `unfamiliar`, the scorer's Score.abstain)."""
        if unfamiliar:
            return "abstain"
        if p_large < self.small_below:
            return "small"
        if p_large >= self.large_at_or_above:
            return "large"
        return "abstain"


PRESETS: Mapping[str, Thresholds] = MappingProxyType(
    {
        # cost: the small tier unless the scorer is fairly sure the request is complex
        "cost": Thresholds(small_below=0.448, large_at_or_above=0.648),
        # balanced (default): complex recall >= 0.97 with >= 90% of simple prompts on small,
        # its budget chosen by leaving whole datasets out (bench/train_scorer.py BUDGETS)
        "balanced": Thresholds(small_below=0.054, large_at_or_above=0.116),
        # quality: the large tier whenever in doubt
        "quality": Thresholds(small_below=0.015, large_at_or_above=0.036),
        # classify every request: the small model decides each one, the scorer never
        "classifier": Thresholds(small_below=0.0, large_at_or_above=1.01),
    }
)
# The same presets for requests that offer tools (agent turns). Their scores spread
# differently from a plain chat's (a wordy one-call ask, a short plan over ten tools), so
# each population gets the bands its own error budgets give (bench/train_scorer.py).
TOOL_PRESETS: Mapping[str, Thresholds] = MappingProxyType(
    {
        "cost": Thresholds(small_below=0.462, large_at_or_above=0.97),
        # balanced's budget with tools (1.5% complex decided small) chosen by leaving whole
        # datasets out: bench/train_scorer.py BUDGETS_WITH_TOOLS
        "balanced": Thresholds(small_below=0.322, large_at_or_above=0.97),
        "quality": Thresholds(small_below=0.004, large_at_or_above=0.79),
        "classifier": Thresholds(small_below=0.0, large_at_or_above=1.01),
    }
)
MODES = ("cost", "balanced", "quality")  # the presets where the local scorer decides
DEFAULT_PRESET = "balanced"


def thresholds_for(preset: str, tools: bool) -> Thresholds:
    """The bands of `preset` for a request that offers tools or does not."""
    return (TOOL_PRESETS if tools else PRESETS)[preset]
