"""The seam to the network: the one interface the rest of the router calls to reach Foundry.

A dict goes in, with the tier to start from, the request's deadline and the upstream API
(`apis.CHAT`, ...); out comes a validated JSON answer with its usage and cost, or an open event
stream of decoded events (a usage event already priced: its `cost_usd`), with the tier that
answered and what was changed on the way. Tokens and cost are recorded on the way back, once
(usage.py). Failures are `ApiError`s for the caller (the caller's own, passed through, or why
no deployment answered); a stream that breaks after its first event raises `TransportError`
from its iterator. Behind it: shaping per model, the health book (budget, cooldown, breaker),
retries and failover, one aiohttp pool, and the guard: a small tier's agent turn that is
certainly broken is asked once of the next tier up (escalation.py, hold.py), for both APIs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from opentelemetry import trace
from opentelemetry.trace import Tracer

from shared import oplog
from shared import telemetry as t
from shared.settings import Settings, Tier
from shared.upstream.apis import CHAT, UpstreamApi
from shared.upstream.attempts import Attempts
from shared.upstream.auth import make_auth
from shared.upstream.client import FoundryClient, TransportError
from shared.upstream.escalation import Escalation, Review, review
from shared.upstream.health import Health, HealthBook
from shared.upstream.hold import turn_for
from shared.upstream.resilience import ONE_SHOT, Attempt, HasHeaders, Outcome, Resilience
from shared.upstream.stream import Event
from shared.upstream.usage import Usage

R = TypeVar("R", bound=HasHeaders)  # what one attempt returns: an answer or a stream's start

__all__ = ["Answered", "Event", "Streamed", "TransportError", "Upstream"]


@dataclass(frozen=True, slots=True)
class Answered:
    tier: Tier  # who answered
    body: dict[str, Any]  # the API's answer, validated (chat: has `choices`)
    headers: Mapping[str, str]
    changes: tuple[str, ...]  # shaping, dropped parameters, failover: for x-router-adjusted
    usage: Usage | None
    cost: float  # list price of the answer (0 without usage), recorded


@dataclass(frozen=True, slots=True)
class Streamed:
    tier: Tier
    headers: Mapping[str, str]
    changes: tuple[str, ...]
    events: AsyncIterator[Event]  # each event decoded, the first already received
    aclose: Callable[[], Awaitable[None]]  # always call it: returns or drops the connection


class Upstream:
    def __init__(
        self,
        settings: Settings,
        tracer: Tracer,
        instruments: t.Instruments,
        *,
        client: FoundryClient | None = None,
        health: Health | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`health`: this instance's own book unless given (shared/state/wiring.py)."""
        self.instruments = instruments
        self.tiers = settings.tiers
        self.client = client or FoundryClient(
            make_auth(settings.auth), settings.limits.connect_timeout_s
        )
        self.health: Health = health or HealthBook(
            {tier.name: tier.tpm for tier in settings.tiers},
            settings.breaker,
            clock,
        )
        self.resilience = Resilience(
            settings, self.health, settings.retry, clock=clock, sleep=sleep
        )
        self.attempts = Attempts(
            self.client,
            instruments,
            tracer,
            settings.limits.stream_idle_timeout_s,
            stream_max_s=settings.limits.stream_max_s,
            max_answer_bytes=settings.limits.max_answer_bytes,
        )

    async def complete(
        self,
        first: Tier,
        body: dict[str, Any],
        deadline: float,
        api: UpstreamApi = CHAT,
        *,
        one_shot: bool = False,
        eligible: Callable[[Tier], bool] | None = None,
    ) -> Answered:
        """A JSON answer from `first` or its fallbacks. `one_shot`: one attempt at `first` only
        (the classifier, an answer started before the verdict), still charged to and judged by
        the health book."""
        attempt = partial(self.attempts.complete, api)
        outcome = await self._call(first, body, deadline, attempt, api, one_shot, eligible)
        answer = outcome.result
        answered = Answered(
            outcome.tier, answer.body, answer.headers, outcome.changes, answer.usage, answer.cost
        )
        guard = review(api, self.tiers, body, outcome.tier, eligible)
        escalation = guard.escalation(api, answer.body) if guard else None
        if escalation is None:
            return answered
        again, changes = await self._escalate(
            outcome, escalation, body, deadline, partial(self.attempts.complete, api), api, eligible
        )
        result = again.result
        # The caller pays for both answers: the cost says so (each was recorded as it came).
        cost = answer.cost + result.cost
        return Answered(again.tier, result.body, result.headers, changes, result.usage, cost)

    async def _call(
        self,
        first: Tier,
        body: dict[str, Any],
        deadline: float,
        attempt: Attempt[R],
        api: UpstreamApi,
        one_shot: bool,
        eligible: Callable[[Tier], bool] | None,
    ) -> Outcome[R]:
        """`attempt` through retries and failover; `one_shot`: one attempt at `first` only."""
        if one_shot:
            return await self.resilience.call(
                first, body, deadline, attempt, api, policy=ONE_SHOT, fallbacks=False
            )
        return await self.resilience.call(first, body, deadline, attempt, api, eligible=eligible)

    async def _escalate(
        self,
        outcome: Outcome[Any],
        escalation: Escalation,
        body: dict[str, Any],
        deadline: float,
        attempt: Attempt[R],
        api: UpstreamApi,
        eligible: Callable[[Tier], bool] | None,
    ) -> tuple[Outcome[R], tuple[str, ...]]:
        """The guard's verdict counted, logged for the operator and set on the request's span;
        then the request asked once of the tier above, and what changed on the way."""
        tier = outcome.tier
        self.instruments.escalations.add(
            1, {t.TIER: tier.name, t.GUARD_FAILURE: escalation.failure}
        )
        oplog.guard_escalation(tier.name, escalation.up.name, escalation.failure)
        trace.get_current_span().set_attribute(t.GUARD_FAILURE, escalation.failure)
        again = await self.resilience.call(
            escalation.up, body, deadline, attempt, api, eligible=eligible
        )
        return again, (*outcome.changes, escalation.change(tier), *again.changes)

    async def stream(
        self,
        first: Tier,
        body: dict[str, Any],
        deadline: float,
        api: UpstreamApi = CHAT,
        *,
        one_shot: bool = False,
        eligible: Callable[[Tier], bool] | None = None,
    ) -> Streamed:
        """An event stream whose first event has arrived; failover is free until then. A small
        tier's streamed agent turn that starts with a tool call is held until it is whole and
        checked (hold.py); text streams as it comes. `one_shot` as for `complete`."""
        attempt = partial(self.attempts.stream, api)
        outcome = await self._call(first, body, deadline, attempt, api, one_shot, eligible)
        start = outcome.result
        events: AsyncIterator[Event] = start.events
        guard = review(api, self.tiers, body, outcome.tier, eligible)
        if guard is not None:
            held, escalation, broke = await _hold(api, guard, events)
            if escalation is not None:
                await start.aclose()
                again, changes = await self._escalate(
                    outcome,
                    escalation,
                    body,
                    deadline,
                    partial(self.attempts.stream, api),
                    api,
                    eligible,
                )
                restart = again.result
                return Streamed(
                    again.tier, restart.headers, changes, restart.events, restart.aclose
                )
            events = _replay(held, events, broke)
        return Streamed(outcome.tier, start.headers, outcome.changes, events, start.aclose)

    async def aclose(self) -> None:
        await self.client.aclose()


async def _hold(
    api: UpstreamApi, guard: Review, events: AsyncIterator[Event]
) -> tuple[list[Event], Escalation | None, TransportError | None]:
    """Read a stream until it releases (text) or ends (checked): the events read, the guard's
    verdict on a whole turn, and the break if the stream broke while held."""
    turn = turn_for(api.name)
    held: list[Event] = []
    try:
        async for event in events:
            held.append(event)
            verdict = turn.see(event.data, event.done)
            if verdict == "release":
                break
            if verdict == "check":
                return held, guard.escalation(api, turn.answer()), None
    except TransportError as broke:
        return held, None, broke
    return held, None, None  # released, or cut short: the relay says which, as for any stream


async def _replay(
    held: list[Event], rest: AsyncIterator[Event], broke: TransportError | None
) -> AsyncIterator[Event]:
    """The held events, then the rest of the stream (or the break that stopped it)."""
    for event in held:
        yield event
    if broke is not None:
        raise broke
    async for event in rest:
        yield event
