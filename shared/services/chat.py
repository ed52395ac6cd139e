"""POST /v1/chat/completions: decide, call the seam, and relay or return the answer."""

from __future__ import annotations

from typing import Any

from shared.api import ChatRequest
from shared.routing.eligibility import chat_needs, taker
from shared.routing.policy import Decision
from shared.services.decide import Decider, RouteRequest
from shared.services.guess import close_stream
from shared.services.outcome import Outcome, carrying
from shared.settings import Settings
from shared.streaming import relay
from shared.upstream.calls import Answered, Streamed, Upstream


def route_request(chat: ChatRequest, body: dict[str, Any], session: str | None) -> RouteRequest:
    """What the decision reads of a chat body: its messages and tools as sent."""
    return RouteRequest(
        chat.model,
        body["messages"],
        body.get("tools") or None,
        session or chat.user,
        chat_needs(body),
    )


class ChatService:
    """A parsed chat request in, an `Outcome` out: decided, sent through the seam, and its
    stream relayed or its JSON answer named by the deployment that gave it."""

    def __init__(self, settings: Settings, decider: Decider, upstream: Upstream) -> None:
        self.settings = settings
        self.decider = decider
        self.upstream = upstream

    async def decide(
        self, chat: ChatRequest, body: dict[str, Any], session: str | None
    ) -> Decision:
        return await self.decider.decide(route_request(chat, body, session))

    async def create(
        self, chat: ChatRequest, body: dict[str, Any], session: str | None, deadline: float
    ) -> Outcome:
        route = route_request(chat, body, session)
        eligible = taker(self.settings.tiers, route.needs)
        if chat.stream:
            # Always ask for usage upstream: the cost is ours to account, even if not shown.
            body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}

        async def send(decision: Decision, *, one_shot: bool = False) -> Answered | Streamed:
            first = self.settings.tier(decision.tier)
            call = self.upstream.stream if chat.stream else self.upstream.complete
            return await call(first, body, deadline, one_shot=one_shot, eligible=eligible)

        decision, sent = await self.decider.decide_and_send(route, send, close_stream)
        with carrying(decision):
            return self._outcome(chat, decision, sent)

    def _outcome(self, chat: ChatRequest, decision: Decision, sent: Answered | Streamed) -> Outcome:
        if isinstance(sent, Streamed):
            include_usage = bool(chat.stream_options and chat.stream_options.include_usage)
            events = relay(sent, include_usage)
            return Outcome(decision, sent.tier, sent.changes, events=events)
        answer = sent.body
        answer["model"] = sent.tier.deployment
        return Outcome(decision, sent.tier, sent.changes, body=answer, cost=sent.cost)
