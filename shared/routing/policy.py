"""Which tier answers: a pin, the session's history, the local scorer, or the classifier; then
the cheapest tier that can take the request (eligibility.py).

Every agent turn is decided on its own: the last user message, the tools, the tool calls and
results since it (features.TURN_SIGNALS). A session (the OpenAI `user` field or an
`x-router-session` header) that reached the large tier stays there for a while (escalate-only).
`ROUTER_TOOL_LOOP=sticky` instead keeps a tool-result turn on the tier that started the loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from shared.api import ApiError
from shared.routing import eligibility
from shared.routing.classifier import Classifier, Verdict, describe_turn
from shared.routing.eligibility import Needs
from shared.routing.features import view_request
from shared.routing.presets import thresholds_for
from shared.routing.scorer import Score, score_request
from shared.settings import Settings
from shared.state.memory import Memory

DecidedBy = Literal["pin", "session", "scorer", "classifier", "cache", "default"]
AUTO = "auto"
TOOL_ROLES = ("tool", "function")


@dataclass(frozen=True, slots=True)
class Decision:
    tier: str
    decided_by: DecidedBy
    reason: str
    score: float | None = None
    classifier_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Abstained:
    """The scorer could not settle it: the classifier reads `text` (describe_turn)."""

    score: Score
    text: str


@dataclass(frozen=True, slots=True)
class Pending:
    """A routed request waiting for the classifier (RoutingPolicy.begin); `if_simple` is the
    decision a "simple" verdict gives, so the answer can start on it while the classifier
    reads."""

    abstained: Abstained
    if_simple: Decision
    session: str | None
    remembered: str | None
    needs: Needs | None


def loop_start(messages: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """The conversation up to the last user message: the turn that started a tool loop."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].get("role") == "user":
            return messages[: index + 1]
    return messages


def decide_locally(
    settings: Settings,
    model: str,
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Any] | None = None,
    session_tier: str | None = None,
) -> Decision | Abstained:
    """A Decision when a pin, the session or the scorer settles it; else what to classify.

    `session_tier` is the tier this conversation's session last used, if it is remembered.
    """
    if model != AUTO:
        pinned = settings.find_pin(model)
        if pinned is None:
            raise unknown_model(settings, model)
        return Decision(pinned.name, "pin", f"model {model} requested")
    if session_tier == settings.routing.large_tier:
        return Decision(session_tier, "session", "session escalated earlier")
    reason_prefix = ""
    if (
        settings.routing.tool_loop == "sticky"
        and messages
        and messages[-1].get("role") in TOOL_ROLES
    ):
        if session_tier is not None:
            return Decision(session_tier, "session", "tool-call loop")
        # Stateless: the tier that started the loop is the one its opening turn scores to.
        messages = loop_start(messages)
        reason_prefix = "tool-call loop: "
    score = score_request(messages, tools)
    local = thresholds_for(settings.routing.preset, bool(tools)).decide(
        score.p_large, score.abstain
    )
    if local == "abstain":
        return Abstained(score, describe_turn(view_request(messages, tools)))
    tier = settings.routing.small_tier if local == "small" else settings.routing.large_tier
    return Decision(tier, "scorer", reason_prefix + score.signal, score.p_large)


def decide_from_verdict(settings: Settings, score: Score, verdict: Verdict) -> Decision:
    if verdict.label is None:
        return Decision(
            settings.routing.default_tier,
            "default",
            f"classifier {verdict.source}; safe default",
            score.p_large,
            verdict.latency_ms,
        )
    tier = settings.routing.small_tier if verdict.label == "simple" else settings.routing.large_tier
    decided_by: DecidedBy = "cache" if verdict.source == "cache" else "classifier"
    return Decision(tier, decided_by, verdict.label, score.p_large, verdict.latency_ms)


def eligible(settings: Settings, decision: Decision, needs: Needs | None) -> Decision:
    """The cheapest tier that can take the request among those the decision allows; a pin is
    what the caller asked for and stays as it is."""
    if needs is None or decision.decided_by == "pin":
        return decision
    choice = eligibility.choose_for(settings, decision.tier, needs)
    if not choice.changed:
        return decision
    reason = f"{decision.reason}; needs {needs.describe()} -> {choice.tier.name}"
    return replace(decision, tier=choice.tier.name, reason=reason)


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
    def __init__(self, settings: Settings, classifier: Classifier, sessions: Memory) -> None:
        self.settings = settings
        self.classifier = classifier
        self.sessions = sessions

    async def decide(
        self, model: str, messages: Sequence[Mapping[str, Any]], tools: Sequence[Any] | None = None
    ) -> Decision:
        """`begin`, then `settle` where the classifier must be asked: a request without a
        session, decided by its content alone (the benchmarks')."""
        begun = await self.begin(model, messages, tools)
        return begun if isinstance(begun, Decision) else await self.settle(begun)

    async def begin(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[Any] | None = None,
        session: str | None = None,
        needs: Needs | None = None,
    ) -> Decision | Pending:
        """The decision where no model call is needed (a pin, the session, the scorer, a
        remembered verdict); else what the classifier must settle (`settle`). `needs`
        (eligibility.chat_needs, or the Responses API's own) picks the tier that can take the
        request; without it the decision's tier is used as is."""
        remembered = await self.sessions.recall(session) if session else None
        local = decide_locally(self.settings, model, messages, tools, remembered)
        if isinstance(local, Abstained):
            verdict = await self.classifier.recall(local.text)
            if verdict is None:
                simple = Decision(self.settings.routing.small_tier, "classifier", "simple")
                if_simple = eligible(self.settings, simple, needs)
                return Pending(local, if_simple, session, remembered, needs)
            local = decide_from_verdict(self.settings, local.score, verdict)
        return await self._concluded(local, session, remembered, needs)

    async def settle(self, pending: Pending) -> Decision:
        """The classifier's verdict on a request `begin` could not decide."""
        verdict = await self.classifier.ask_model(pending.abstained.text)
        decision = decide_from_verdict(self.settings, pending.abstained.score, verdict)
        return await self._concluded(decision, pending.session, pending.remembered, pending.needs)

    async def _concluded(
        self, decision: Decision, session: str | None, remembered: str | None, needs: Needs | None
    ) -> Decision:
        """The decision moved to a tier that can take the request, and remembered for its
        session."""
        decision = eligible(self.settings, decision, needs)
        # Escalate-only: a session that reached the large tier is not sent back down.
        if (
            session
            and decision.decided_by != "pin"
            and remembered != self.settings.routing.large_tier
        ):
            await self.sessions.remember(session, decision.tier)
        return decision
