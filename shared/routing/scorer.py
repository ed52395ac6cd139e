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
from shared.routing.features import (
    CONVERSATION_SIGNALS,
    Terms,
    model_inputs,
    opening,
    request_features,
    tool_signals,
    turn_signals,
    unreadable,
    view_request,
    wording_weight,
)

# Named signals grouped into the few reasons a router log line shows.
_GROUPS: dict[str, tuple[str, ...]] = {
    "greeting": ("greeting",),
    "code": (
        "code_fence",
        "code_syntax",
        "stack_trace",
        "code_terms",
        "mixed_case",
        "code_ask",
        "software",
    ),
    "multi-step": ("multi_step", "numbered_list"),
    "math": (
        "numbers",
        "math_ops",
        "quantity_question",
        "money_or_percent",
        "math_terms",
        "formula",
    ),
    "length": ("chars", "words", "lines", "sentences"),
    "task": ("task_verb",),
    "policy": ("policy_chars",),
    "tool results": ("results_since_user", "result_chars", "last_is_tool"),
    "tool calls": ("calls_since_user", "parallel_calls"),
    "tools": ("tools",),
    "conversation": CONVERSATION_SIGNALS,
}
# A named group explains a score better than the wording when it pushes this hard (logit).
_NAMED_SIGNAL_MIN = 1.0


@dataclass(frozen=True, slots=True)
class Score:
    p_large: float  # calibrated probability in [0, 1] that the request needs the large tier
    signal: str  # the strongest signal, short and human-readable: "greeting", "code", "math", ...
    # the request is unlike the training data (model.Support): the classifier decides
    abstain: bool = False


class LocalScorer:
    """score_request with a given model (the shipped one, or a freshly trained one)."""

    def __init__(self, scorer_model: model.ScorerModel) -> None:
        self.model = scorer_model
        self._groups = {
            group: [(n, scorer_model.need.dense[n], scorer_model.signal_means[n]) for n in names]
            for group, names in _GROUPS.items()
        }

    def score(
        self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Any] | None = None
    ) -> Score:
        view = view_request(messages, tools)
        values, terms = request_features(view)
        p_opening = 0.0
        if view.results_since_user:
            # Reading the results of a loop: its opening ask's difficulty carries over (the
            # results of a chain's first call open the next call, not a reply).
            start = opening(view)
            started = {**values, **turn_signals(start), **tool_signals(start)}
            p_opening = self._probability(started, terms)
        p_turn = self._probability(values, terms)
        p = max(p_turn, p_opening)
        rule = rules.bound(view, values)
        if rule is not None:
            return Score(rule.apply(p), rule.signal)
        disagreement = rules.disagreement(view, values, p)
        if disagreement is not None:
            return Score(p, disagreement, abstain=True)
        if unreadable(view.text):
            return Score(p, "unfamiliar script", abstain=True)
        support = self.model.support
        unfamiliar = support.unfamiliar(values) if support is not None else None
        if support is not None and unfamiliar is not None:
            name = unfamiliar.replace("_", " ")
            # Beyond the seen range a linear model extrapolates. Where the turn scores higher
            # with the value read at the edge of that range, the extrapolation pushed toward
            # small (more result characters read as a reply): the edge's score decides. Pushed
            # toward large, or a signal the model has no weight for, the classifier decides.
            p_turn_seen = self._probability(support.clamped(values), terms)
            if p_turn_seen > p_turn:
                return Score(max(p_turn_seen, p_opening), f"{name} past the seen range")
            return Score(p, f"unfamiliar {name}", abstain=True)
        return Score(p, self._strongest_signal(values, p))

    def _probability(self, values: Mapping[str, float], terms: Terms) -> float:
        inputs = model_inputs(values)
        return self.model.probability(self.model.logits(inputs, terms, wording_weight(values)))

    def _strongest_signal(self, values: Mapping[str, float], p_large: float) -> str:
        """The group of named signals that pushed the need head hardest towards the side
        it chose, or the wording (the hashed terms) when none pushed clearly."""
        toward_large = p_large >= 0.5
        sign = 1.0 if toward_large else -1.0
        # only the signals the request has: "no tools offered" explains nothing
        contributions = {
            group: sign
            * sum(weight * (values[name] - mean) for name, weight, mean in members if values[name])
            for group, members in self._groups.items()
        }
        group = max(contributions, key=contributions.__getitem__)
        if contributions[group] < _NAMED_SIGNAL_MIN or group == "task":
            return "task wording" if toward_large else "faq wording"
        if group == "length":
            return "long input" if toward_large else "short input"
        return group


_SHIPPED = LocalScorer(model.load())


def score_request(
    messages: Sequence[Mapping[str, Any]], tools: Sequence[Any] | None = None
) -> Score:
    """Score an OpenAI chat turn: its last user message, and the agent structure around it."""
    return _SHIPPED.score(messages, tools)


def score_text(text: str, tools: Sequence[Any] | None = None) -> Score:
    """Score a single user prompt (benchmarks, tests)."""
    return score_request([{"role": "user", "content": text}], tools)
