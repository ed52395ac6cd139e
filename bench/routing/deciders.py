"""How the evaluation decides a prompt's tier: the local scorer, the small-model classifier,
or both as the policy runs them; and the stand-ins that settle abstentions in the report."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any, Protocol

from bench.routing.data import Prompt
from bench.routing.traffic import Tier


class Classifier(Protocol):
    """The router's small-model classifier (shared/routing/classifier.py). Its answer is a
    label, or a verdict object whose `label` is a label or None (timeout, error, unparsed)."""

    async def classify(self, text: str) -> Any: ...


def load_classifier(endpoint: str) -> Classifier:
    """The router's own classifier (its prompt, parsing, timeout and cache) against `endpoint`,
    authenticated as the router would be: FOUNDRY_API_KEY from the environment, else Entra."""
    from shared.gateway import Gateway
    from shared.settings import load_settings

    settings = load_settings({**os.environ, "FOUNDRY_ENDPOINT": endpoint})
    return RouterClassifier(Gateway(settings))


class RouterClassifier:
    """The gateway's classifier, and a way to close the gateway's connections after a run."""

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway

    async def classify(self, text: str) -> Any:
        return await self.gateway.policy.classifier.classify(text)

    async def aclose(self) -> None:
        await self.gateway.aclose()


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
