"""How the evaluation decides a prompt's tier: the local scorer, the small-model classifier,
or both as the policy runs them; and the stand-ins that settle abstentions in the report."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from bench.routing.data import Prompt
from bench.routing.traffic import Tier


class Classifier(Protocol):
    """The router's small-model classifier (shared/routing/classifier.py). Its answer is a
    label, or a verdict object whose `label` is a label or None (timeout, error, unparsed)."""

    async def classify(self, text: str) -> Any: ...


MISSING_CLASSIFIER = (
    "--mode classifier|policy needs the router's classifier, shared/routing/classifier.py, "
    "which this branch does not have yet. Merge main, then wire its constructor in "
    "bench/routing/deciders.py:load_classifier (expected: an object with "
    "`async def classify(text) -> 'simple' | 'complex'`, built from settings)."
)


def load_classifier(endpoint: str) -> Classifier:
    """The classifier against a chat-completions endpoint; a clear error until it exists."""
    try:
        from shared.routing import classifier as module  # type: ignore[attr-defined]
    except ImportError as exc:
        raise SystemExit(MISSING_CLASSIFIER) from exc
    factory = getattr(module, "from_endpoint", None)
    if factory is None:
        raise SystemExit(MISSING_CLASSIFIER)
    classifier: Classifier = factory(endpoint)
    return classifier


def tier_of(answer: Any) -> Tier:
    """The tier of a classifier answer; no usable label means the safe default, large."""
    label = getattr(answer, "label", answer)
    return "small" if label == "simple" else "large"


# Settling abstentions without a model, for the report: what each assumption would give.
AbstainRule = Callable[[Prompt], Tier]

_KEYWORDS = re.compile(
    r"\b(?:code|function|program|debug|error|step|plan|explain|analy[sz]e|compare|calculate"
    r"|solve|prove|write|implement|design|how many|how much|why)\b|```|\d+\s*[-+*/]\s*\d+"
)


def keyword_rule(prompt: Prompt) -> Tier:
    """Stand-in for the emulator's deterministic keyword classifier until it lands on main:
    complex if the prompt is long or names a task, code or arithmetic."""
    text = prompt.prompt.lower()
    return "large" if len(text) > 400 or _KEYWORDS.search(text) else "small"


ABSTAIN_RULES: dict[str, AbstainRule] = {
    "to large": lambda _p: "large",  # the classifier is down and the policy plays safe
    "perfect classifier": lambda p: "large" if p.is_complex else "small",
    "keyword classifier": keyword_rule,
    "to small": lambda _p: "small",  # the worst case for recall
}
