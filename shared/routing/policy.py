"""Which tier answers: a pin, the session's history, the local scorer, or the classifier.

A session (the OpenAI `user` field or an `x-router-session` header) that reached the large tier
stays there for a while (escalate-only), and a tool-call loop stays on the tier that started it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from shared.api import ApiError, last_user_text
from shared.routing.cache import TtlCache
from shared.routing.classifier import Classifier, Verdict
from shared.routing.presets import PRESETS
from shared.routing.scorer import Score, score_request
from shared.settings import Settings

DecidedBy = Literal["pin", "session", "scorer", "classifier", "cache", "default"]
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
    session_tier: str | None = None,
) -> Decision | Score:
    """A Decision when a pin, the session or the scorer settles it; else the Score, to classify.

    `session_tier` is the tier this conversation's session last used, if it is remembered.
    """
    if model != AUTO:
        pinned = settings.find_pin(model)
        if pinned is None:
            raise unknown_model(settings, model)
        return Decision(pinned.name, "pin", f"model {model} requested")
    if session_tier == settings.large_tier:
        return Decision(session_tier, "session", "session escalated earlier")
    if session_tier is not None and messages and messages[-1].get("role") == "tool":
        return Decision(session_tier, "session", "tool-call loop")
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


def accepted_models(settings: Settings) -> tuple[str, ...]:
    """Every `model` value the router takes: auto, a tier name or a deployment name."""
    names = [AUTO, *(t.name for t in settings.tiers), *(t.deployment for t in settings.tiers)]
    return tuple(dict.fromkeys(names))


def unknown_model(settings: Settings, model: str) -> ApiError:
    return ApiError(
        400,
        f"The model '{model}' does not exist. Use one of: {', '.join(accepted_models(settings))}.",
        code="model_not_found",
        param="model",
    )


class RoutingPolicy:
    def __init__(self, settings: Settings, classifier: Classifier, sessions: TtlCache[str]) -> None:
        self.settings = settings
        self.classifier = classifier
        self.sessions = sessions

    async def decide(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        has_tools: bool,
        session: str | None = None,
    ) -> Decision:
        remembered = self.sessions.get(session) if session else None
        local = decide_locally(self.settings, model, messages, has_tools, remembered)
        if isinstance(local, Decision):
            decision = local
        else:
            verdict = await self.classifier.classify(last_user_text(messages))
            decision = decide_from_verdict(self.settings, local, verdict)
        # Escalate-only: a session that reached the large tier is not sent back down.
        if session and decision.decided_by != "pin" and remembered != self.settings.large_tier:
            self.sessions.put(session, decision.tier)
        return decision
