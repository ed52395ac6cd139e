"""Product rules that bound the learned score: cases that must hold whatever the weights say
(very long new input, an agent under a long policy, code or an ask for code, mathematical
notation, explicit multi-step asks and asks that open with the verb of a hard task go large,
small talk goes small).

Tools, tool results and images are not rules any more: whether a tier can take them is
eligibility (eligibility.py), and what an agent turn needs is read from its structure by the
learned model (features.TURN_SIGNALS).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.routing.features import RequestView

# ~1,500 tokens of new text in one turn (the last user message and the tool results since it):
# documents, logs, long code, large tool output. The benchmarks' simple turns stay under 3,200.
LONG_INPUT_CHARS = 6_000
# ~5,000 tokens of conversation in all: reasoning over a long thread. Agent conversations grow
# with every tool result, so this bound is higher (the agent-bench's simple ones stay under 15k).
LONG_CONTEXT_CHARS = 20_000
# Instructions this long with tools are a policy the agent's task is bound by (tau-bench's
# retail and airline policies are ~6,000 characters): every turn under it needs the large tier.
POLICY_CHARS = 4_000

# Floors sit above every preset's large threshold and the ceiling below every small threshold
# (tests/routing check it), so a rule decides locally whatever the preset.
HARD_FLOOR = 0.99
SOFT_FLOOR = 0.97
SMALL_TALK_CEILING = 0.002


@dataclass(frozen=True, slots=True)
class Bound:
    """A rule that fired: p_large is raised to `floor` or lowered to `ceiling`."""

    signal: str
    floor: float = 0.0
    ceiling: float = 1.0

    def apply(self, p: float) -> float:
        return min(max(p, self.floor), self.ceiling)


def bound(view: RequestView, signals: Mapping[str, float]) -> Bound | None:
    """The first rule that applies to a request, strongest first, or None."""
    if view.turn_chars >= LONG_INPUT_CHARS or view.context_chars >= LONG_CONTEXT_CHARS:
        return Bound("long input", floor=HARD_FLOOR)
    if view.tools and view.system_chars >= POLICY_CHARS:
        return Bound("policy", floor=SOFT_FLOOR)
    if signals["code_fence"] or signals["stack_trace"] or signals["code_ask"]:
        return Bound("code", floor=SOFT_FLOOR)
    if signals["formula"]:
        return Bound("math", floor=SOFT_FLOOR)
    if signals["multi_step"]:
        return Bound("multi-step", floor=SOFT_FLOOR)
    if signals["hard_ask"]:
        return Bound("hard ask", floor=SOFT_FLOOR)
    if signals["greeting"] and not view.last_is_tool:
        return Bound("greeting", ceiling=SMALL_TALK_CEILING)
    return None
