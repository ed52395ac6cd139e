"""Which tier answers: a pin, the local scorer, or the classifier when the scorer abstains."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from shared.api import ApiError, last_user_text
from shared.routing.classifier import Classifier, Verdict
from shared.routing.presets import PRESETS
from shared.routing.scorer import Score, score_request
from shared.settings import Settings

DecidedBy = Literal["pin", "scorer", "classifier", "cache", "default"]
AUTO = "auto"


@dataclass(frozen=True, slots=True)
class Decision:
    tier: str
    decided_by: DecidedBy
    reason: str
    score: float | None = None
    classifier_ms: float | None = None


def decide_locally(
    settings: Settings,
    model: str,
    messages: Sequence[Mapping[str, Any]],
    has_tools: bool,
) -> Decision | Score:
    """A Decision when a pin or the scorer settles it; otherwise the Score, for the classifier."""
    if model != AUTO:
        pinned = settings.find_pin(model)
        if pinned is None:
            raise unknown_model(settings, model)
        return Decision(pinned.name, "pin", f"model {model} requested")
    score = score_request(messages, has_tools=has_tools)
    thresholds = PRESETS[settings.preset]
    if score.p_large < thresholds.small_below:
        return Decision(settings.small_tier, "scorer", score.signal, score.p_large)
    if score.p_large >= thresholds.large_at_or_above:
        return Decision(settings.large_tier, "scorer", score.signal, score.p_large)
    return score


def decide_from_verdict(settings: Settings, score: Score, verdict: Verdict) -> Decision:
    if verdict.label is None:
        return Decision(
            settings.default_tier,
            "default",
            f"classifier {verdict.source}; safe default",
            score.p_large,
            verdict.latency_ms,
        )
    tier = settings.small_tier if verdict.label == "simple" else settings.large_tier
    decided_by: DecidedBy = "cache" if verdict.source == "cache" else "classifier"
    return Decision(tier, decided_by, verdict.label, score.p_large, verdict.latency_ms)


def unknown_model(settings: Settings, model: str) -> ApiError:
    valid = [AUTO, *(t.name for t in settings.tiers), *(t.deployment for t in settings.tiers)]
    return ApiError(
        400,
        f"The model '{model}' does not exist. Use one of: {', '.join(dict.fromkeys(valid))}.",
        code="model_not_found",
        param="model",
    )


class RoutingPolicy:
    def __init__(self, settings: Settings, classifier: Classifier) -> None:
        self.settings = settings
        self.classifier = classifier

    async def decide(
        self, model: str, messages: Sequence[Mapping[str, Any]], has_tools: bool
    ) -> Decision:
        local = decide_locally(self.settings, model, messages, has_tools)
        if isinstance(local, Decision):
            return local
        verdict = await self.classifier.classify(last_user_text(messages))
        return decide_from_verdict(self.settings, local, verdict)
