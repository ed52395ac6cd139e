"""The local scorer: how likely a chat request needs the large tier, without any model call.

Pure and fast (well under a millisecond for typical prompts): features of the last user
message (shared/routing/features.py), a small linear model loaded once from
scorer_model.json (model.py), then the product rules that bound it (rules.py). The policy
turns the probability into small / large / ask-the-classifier with a preset (presets.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.routing import model, rules
from shared.routing.features import features, view_request

_MODEL = model.load()

# Named signals grouped into the few reasons a router log line shows.
_GROUPS: dict[str, tuple[str, ...]] = {
    "greeting": ("greeting",),
    "code": ("code_fence", "code_syntax", "stack_trace", "code_terms"),
    "multi-step": ("multi_step", "numbered_list"),
    "math": ("numbers", "math_ops", "quantity_question", "money_or_percent", "math_terms"),
    "length": ("chars", "words", "lines", "sentences"),
    "task": ("task_verb",),
}
_NAMED_SIGNAL_MIN = 1.0  # logit units

_GROUP_WEIGHTS = {
    group: [(n, _MODEL.need.dense[n], _MODEL.signal_means[n]) for n in names]
    for group, names in _GROUPS.items()
}


@dataclass(frozen=True, slots=True)
class Score:
    p_large: float  # calibrated probability in [0, 1] that the request needs the large tier
    signal: str  # the strongest signal, short and human-readable: "greeting", "code", "math", ...


def _strongest_signal(values: Mapping[str, float], p_large: float) -> str:
    """The group of features that pushed the need head hardest towards the side it chose."""
    toward_large = p_large >= 0.5
    contributions = {
        group: sum(weight * (values[name] - mean) for name, weight, mean in members)
        for group, members in _GROUP_WEIGHTS.items()
    }
    sign = 1.0 if toward_large else -1.0
    group = max(contributions, key=lambda g: sign * contributions[g])
    # a named signal explains the score better than "wording" when it clearly pushes that way
    if sign * contributions[group] < _NAMED_SIGNAL_MIN or group == "task":
        return "task wording" if toward_large else "faq wording"
    if group == "length":
        return "long input" if toward_large else "short input"
    return group


def score_request(messages: Sequence[Mapping[str, Any]], *, has_tools: bool = False) -> Score:
    """Score an OpenAI chat conversation; mostly its last user message."""
    view = view_request(messages)
    values, buckets = features(view.text)
    logits = _MODEL.logits(values, buckets)
    p = _MODEL.probability(logits)
    rule = rules.bound(view, values, has_tools=has_tools)
    if rule is not None:
        return Score(rule.apply(p), rule.signal)
    return Score(p, _strongest_signal(values, p))


def score_text(text: str, *, has_tools: bool = False) -> Score:
    """Score a single user prompt (benchmarks, tests)."""
    return score_request([{"role": "user", "content": text}], has_tools=has_tools)
