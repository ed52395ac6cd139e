"""Product rules that bound the learned score: cases the benchmark data cannot teach (tools,
images, tool results, very long inputs: none of its prompts has them) or that must hold
whatever the weights say (code and explicit multi-step asks go large, small talk goes small).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.routing.features import RequestView

# ~1,500 tokens of text: documents, logs, long code. The benchmark's simple prompts stay under
# 400 characters.
LONG_INPUT_CHARS = 6_000

# Floors sit above every preset's large threshold and the ceiling below every small threshold
# (tests/routing check it), so a rule decides locally whatever the preset.
HARD_FLOOR = 0.99
SOFT_FLOOR = 0.97
SMALL_TALK_CEILING = 0.01


@dataclass(frozen=True, slots=True)
class Bound:
    """A rule that fired: p_large is raised to `floor` or lowered to `ceiling`."""

    signal: str
    floor: float = 0.0
    ceiling: float = 1.0

    def apply(self, p: float) -> float:
        return min(max(p, self.floor), self.ceiling)


def bound(view: RequestView, signals: Mapping[str, float], *, has_tools: bool) -> Bound | None:
    """The first rule that applies to a request, strongest first, or None."""
    if has_tools:
        return Bound("tools", floor=HARD_FLOOR)
    if view.images:
        return Bound("image", floor=HARD_FLOOR)  # the small tier reads text only
    if view.context_chars >= LONG_INPUT_CHARS:
        return Bound("long input", floor=HARD_FLOOR)
    if view.tool_results:
        return Bound("tool results", floor=SOFT_FLOOR)
    if signals["code_fence"] or signals["stack_trace"]:
        return Bound("code", floor=SOFT_FLOOR)
    if signals["multi_step"]:
        return Bound("multi-step", floor=SOFT_FLOOR)
    if signals["greeting"]:
        return Bound("greeting", ceiling=SMALL_TALK_CEILING)
    return None
