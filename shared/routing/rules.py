"""Product rules that bound the learned score: cases that must hold whatever the weights say
(very long new input, an agent under a long policy, code or an ask for code, a question about
a named software technology, mathematical notation, explicit multi-step asks, asks that open
with the verb of a hard task and asks that need a chain of offered tools go large, small talk
goes small).

Tools, tool results and images are not rules: whether a tier can take them is
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


# Every stem of one offered function's name is in the ask (calculateFinalVelocity and
# "Calculate the final velocity ..."), no other function is needed and no id is missing.
ONE_CALL_FIT = 0.99
# ... among at most this many offered functions. Beside a whole stateful API (a phone's 33
# tools, an airline's 16) a function named by the ask is rarely the whole step: a symbol, a
# directory or the device's state is looked up first. Of the development turns that pass the
# test, 269 of the 292 offering up to 10 tools are simple, 51 of the 55 offering more complex.
ONE_CALL_MAX_TOOLS = 10
_SMALL_TALK = Bound("greeting", ceiling=SMALL_TALK_CEILING)


def one_call(view: RequestView, signals: Mapping[str, float]) -> bool:
    """The ask is what one of a few offered functions performs (features.TOOL_SIGNALS)."""
    return (
        signals["tool_fit"] >= ONE_CALL_FIT
        and view.tools <= ONE_CALL_MAX_TOOLS
        and not signals["tools_needed"]
        and not signals["id_gap"]
        and not signals["ask_links"]
    )


def several_calls(signals: Mapping[str, float]) -> bool:
    """The ask needs several offered functions, or one whose id another call must find."""
    return bool(signals["tools_needed"] or signals["id_gap"])


def disagreement(view: RequestView, signals: Mapping[str, float], p_large: float) -> str | None:
    """Where the tools' structure and the learned score (mostly the ask's text) disagree, the
    classifier decides: one offered function performs an ask that reads as hard. None when
    they agree. (The other way, a chain that reads as simple, is a rule: `bound`.)"""
    if p_large >= 0.5 and one_call(view, signals):
        return "one tool call, hard wording"
    return None


def bound(view: RequestView, signals: Mapping[str, float]) -> Bound | None:
    """The first rule that applies to a request, strongest first, or None."""
    if view.turn_chars >= LONG_INPUT_CHARS or view.context_chars >= LONG_CONTEXT_CHARS:
        return Bound("long input", floor=HARD_FLOOR)
    if view.tools and view.system_chars >= POLICY_CHARS:
        return Bound("policy", floor=SOFT_FLOOR)
    if signals["code_fence"] or signals["stack_trace"] or signals["code_ask"]:
        return Bound("code", floor=SOFT_FLOOR)
    if signals["puzzle"]:
        return Bound("puzzle", floor=SOFT_FLOOR)
    if signals["multi_step"]:
        return Bound("multi-step", floor=SOFT_FLOOR)
    # "Calculate the final velocity ... given ..." beside calculate_final_velocity: the
    # function does the work and the model only fills in its arguments, so the wording of a
    # calculation or a hard task is not a verdict; the learned score decides
    if not one_call(view, signals):
        if signals["formula"]:
            return Bound("math", floor=SOFT_FLOOR)
        if signals["hard_ask"]:
            return Bound("hard ask", floor=SOFT_FLOOR)
    # "How do I set up ssh on Linux", "Visualize a pandas dataframe in gradio": a plain ask
    # about a named software technology needs an expert answer however short it is. Beside
    # tools, only where no offered tool touches it ("List the Docker containers" is a call).
    if signals["software"] and (not view.tools or signals["no_tool_fits"]):
        return Bound("software", floor=SOFT_FLOOR)
    # A chain however short its wording ("Find nearby restaurants within 1km of Tokyo" beside
    # a function that needs coordinates): left to the classifier, a short ask reads as simple
    # (leave-one-dataset-out recall with tools 82% -> 88% with the emulator's classifier)
    if several_calls(signals):
        return Bound("chain of tool calls", floor=SOFT_FLOOR)
    if signals["greeting"] and not view.last_is_tool:
        return _SMALL_TALK
    return None
