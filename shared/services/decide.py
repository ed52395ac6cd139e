"""The routing decision for either API: what it reads (`RouteRequest`), and the decider that
runs the policy with its span and metric, and starts the answer's upstream call beside the
classifier where the classifier must decide (guess.py)."""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from opentelemetry.trace import Tracer

from shared import telemetry as t
from shared.api import content_text
from shared.routing.cache import TtlCache
from shared.routing.classifier import Classifier
from shared.routing.eligibility import Needs
from shared.routing.policy import Decision, RoutingPolicy
from shared.services.guess import Close, Guess, Start
from shared.services.outcome import carrying
from shared.settings import Settings, Tier
from shared.state.memory import Memory
from shared.upstream.calls import Upstream

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """What the decision reads, whichever API the request came by: each API builds it from its
    own body (chat: as sent; Responses: its input as chat turns)."""

    model: str  # "auto", or the tier or deployment pinned
    messages: Sequence[Mapping[str, Any]]  # the conversation as chat messages
    tools: Sequence[Any] | None  # the tools offered (any kind makes it a tool request)
    session: str | None  # the x-router-session header, else the caller's `user`
    needs: Needs  # what the tier that answers must take (eligibility.py)


class Decider:
    """The routing policy (its classifier asking through the seam, its caches), run with the
    router.decide span and the router.decisions metric."""

    def __init__(
        self,
        settings: Settings,
        upstream: Upstream,
        tracer: Tracer,
        instruments: t.Instruments,
        *,
        sessions: Memory | None = None,
        verdicts: Memory | None = None,
    ) -> None:
        """`sessions`, `verdicts`: this instance's own unless given (shared/state/wiring.py)."""
        self.settings = settings
        self.upstream = upstream
        self.tracer = tracer
        self.instruments = instruments
        classifier_tier = settings.tier(settings.routing.classifier_tier)
        own_verdicts: TtlCache[str] = TtlCache(
            settings.classifier.cache_ttl_s, settings.classifier.cache_size
        )
        self.policy = RoutingPolicy(
            settings,
            Classifier(
                lambda body: self._ask(classifier_tier, body),
                settings.classifier.timeout_s,
                verdicts or own_verdicts,
            ),
            sessions or TtlCache(settings.sessions.ttl_s, settings.sessions.max_sessions),
        )

    async def decide(self, route: RouteRequest) -> Decision:
        decision, _ = await self._decide(route, None)
        return decision

    async def decide_and_send(
        self, route: RouteRequest, send: Start[T], close: Close[T]
    ) -> tuple[Decision, T]:
        """The decision and `send(decision)`, the upstream call made for it. Where the
        classifier has to be asked (and ROUTER_SPECULATE is on), that call starts meanwhile on
        the tier a "simple" verdict gives, and is used or dropped by the verdict (guess.py).
        An error of the call carries the decision (outcome.carrying)."""
        starter = (send, close) if self.settings.routing.speculate == "on" else None
        decision, guess = await self._decide(route, starter)
        with carrying(decision):
            sent = await guess.take(decision) if guess is not None else None
            if sent is None:
                sent = await send(decision)
            return decision, sent

    async def _decide(
        self, route: RouteRequest, starter: tuple[Start[T], Close[T]] | None
    ) -> tuple[Decision, Guess[T] | None]:
        # the guess's call is the request's child, not the decision's: it outlives the span
        request_context = contextvars.copy_context()
        guess: Guess[T] | None = None
        with self.tracer.start_as_current_span("router.decide") as span:
            begun = await self.policy.begin(
                route.model, route.messages, route.tools, route.session, route.needs
            )
            if isinstance(begun, Decision):
                decision = begun
            else:
                # Not on a tier that is failing or out of budget: its one attempt would be
                # refused, and the span would tell of an answer started early that never was.
                if starter is not None and not self.upstream.health.blocked(begun.if_simple.tier):
                    start, close = starter
                    call = start(begun.if_simple, one_shot=True)
                    task = asyncio.create_task(call, context=request_context)
                    guess = Guess(begun.if_simple.tier, task, close)
                try:
                    decision = await self.policy.settle(begun)
                except BaseException:
                    if guess is not None:
                        await guess.drop()
                    raise
            if guess is not None:
                span.set_attribute(t.GUESS, guess.outcome(decision))
            span.set_attributes(
                {
                    t.TIER: decision.tier,
                    t.DECIDED_BY: decision.decided_by,
                    t.REASON: decision.reason,
                    t.CACHE_HIT: decision.decided_by == "cache",
                }
            )
            if decision.score is not None:
                span.set_attribute(t.SCORE, decision.score)
            if decision.classifier_ms is not None:
                span.set_attribute(t.CLASSIFIER_MS, decision.classifier_ms)
        self.instruments.decisions.add(
            1, {t.TIER: decision.tier, t.DECIDED_BY: decision.decided_by}
        )
        return decision, guess

    async def _ask(self, tier: Tier, body: dict[str, Any]) -> str:
        """The classifier's call: one attempt through the health book (its budget, cooldown and
        breaker, like any other call); any failure means the safe default."""
        deadline = time.monotonic() + self.settings.classifier.timeout_s
        reply = await self.upstream.complete(tier, body, deadline, one_shot=True)
        choices = reply.body.get("choices") or [{}]
        return content_text((choices[0].get("message") or {}).get("content"))
