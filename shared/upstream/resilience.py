"""Retries, failover and waits around single upstream attempts, on an injected clock and sleep.

Per deployment tenacity tries again when the outcome says `retry` (outcomes.py), waiting
what the deployment asked for (retry-after-ms, x-ms-retry-after-ms, Retry-After) or else
exponential backoff with jitter. A wait longer than the cap or past the request's deadline is
not taken: the next deployment of the fallback chain is tried instead, and when none is left the
caller gets 429 or 503 with Retry-After. Every attempt reports to the health book, whatever its
end: a probe of a half-open breaker is always released.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from shared import oplog
from shared.api import ApiError
from shared.settings import RetryPolicy, Settings, Tier
from shared.upstream.apis import CHAT, UpstreamApi
from shared.upstream.attempts import MIN_ATTEMPT_S, AttemptInfo
from shared.upstream.health import Blocked, Health, Verdict
from shared.upstream.outcomes import AttemptFailed, DeploymentError, remaining_tokens


class HasHeaders(Protocol):
    @property
    def headers(self) -> Mapping[str, str]: ...


T = TypeVar("T", bound=HasHeaders)

Attempt = Callable[[Tier, dict[str, Any], AttemptInfo], Awaitable[T]]
"""One call to one deployment: (tier, shaped body, attempt info) -> result, or AttemptFailed."""


# The classifier's calls: one attempt, no waiting (its own timeout is short).
ONE_SHOT = RetryPolicy(max_attempts=1, max_wait_s=0.0)


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    tier: Tier
    result: T
    changes: tuple[str, ...]


def fallback_chain(settings: Settings, first: Tier) -> list[Tier]:
    """The tier and its fallbacks, breadth first, each once."""
    chain = [first]
    for tier in chain:
        for name in tier.fallbacks:
            fallback = settings.tier(name)
            if fallback not in chain:
                chain.append(fallback)
    return chain


@dataclass(frozen=True, slots=True)
class _Call(Generic[T]):
    """What every step of one `Resilience.call` shares."""

    first: Tier
    deadline: float
    attempt: Attempt[T]
    api: UpstreamApi
    policy: RetryPolicy


@dataclass
class _Pass:
    """What one pass down the chain learnt."""

    last: AttemptFailed | None = None
    last_tier: Tier | None = None
    last_changes: tuple[str, ...] = ()
    blocked: list[Blocked] = field(default_factory=list)


def _changes(
    first: Tier, tier: Tier, shaped: tuple[str, ...], dropped: Sequence[str]
) -> tuple[str, ...]:
    """What was changed on the way to `tier`, for x-router-adjusted: shaping, dropped
    parameters, failover."""
    changes = (*shaped, *dropped)
    return changes if tier is first else (*changes, f"failover {first.name}->{tier.name}")


class Refused(Exception):
    """The health book turned an attempt away as it went out (the budget another request, or
    another instance, spent meanwhile; a probe another took): the deployment is skipped."""

    def __init__(self, blocked: Blocked) -> None:
        super().__init__(blocked.reason)
        self.blocked = blocked


def _failure(state: RetryCallState) -> AttemptFailed:
    """The AttemptFailed that ended this try (tenacity retries nothing else here)."""
    exc = state.outcome.exception() if state.outcome is not None else None
    assert isinstance(exc, AttemptFailed)
    return exc


def _skip(seen: _Pass, tier: Tier, why: Blocked, tokens: int) -> None:
    seen.blocked.append(why)
    if why.reason == "budget":
        oplog.token_budget_exhausted(tier.name, why.wait_s, tokens)


def _verdict(failed: AttemptFailed) -> Verdict:
    if failed.health == "fault":
        return Verdict("fault")
    if failed.health == "throttled":
        return Verdict("throttled", failed.wait_s)
    if failed.health == "answered":
        return Verdict("answered")
    return Verdict("released")


class Resilience:
    def __init__(
        self,
        settings: Settings,
        health: Health,
        policy: RetryPolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.health = health
        self.policy = policy
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter

    async def call(
        self,
        first: Tier,
        body: dict[str, Any],
        deadline: float,
        attempt: Attempt[T],
        api: UpstreamApi = CHAT,
        *,
        policy: RetryPolicy | None = None,
        fallbacks: bool = True,
        eligible: Callable[[Tier], bool] | None = None,
    ) -> Outcome[T]:
        """Run `attempt` down the fallback chain of `first` until one answers or time is up;
        `eligible` says which fallbacks can take this request at all (capabilities, APIs).

        Raises ApiError: the caller's own error passed through, or why nothing answered.
        """
        call = _Call(first, deadline, attempt, api, policy or self.policy)
        chain = fallback_chain(self.settings, first) if fallbacks else [first]
        if eligible is not None:
            chain = [first, *filter(eligible, chain[1:])]
        while True:
            outcome, seen = await self._down_the_chain(call, chain, body)
            if outcome is not None:
                return outcome
            blocked = seen.blocked
            pause = self._pause_before_again(seen.last, blocked, deadline, call.policy)
            if pause is None:
                raise self._give_up(seen, deadline)
            oplog.cooldown_wait(pause, ",".join(sorted({b.reason for b in blocked})))
            await self.sleep(pause)

    def _open(self, tier: Tier, min_context: int) -> bool:
        return tier.context_window > min_context and self.health.blocked(tier.name) is None

    async def _down_the_chain(
        self, call: _Call[T], chain: list[Tier], body: dict[str, Any]
    ) -> tuple[Outcome[T] | None, _Pass]:
        """One pass over the chain: an answer, or the last failure and who was skipped."""
        seen = _Pass()
        min_context = 0
        for index, tier in enumerate(chain):
            if tier.context_window <= min_context:
                continue
            shaped = call.api.shape(body, tier)
            tokens = call.api.estimate_tokens(shaped.body)
            why = self.health.blocked(tier.name, tokens)
            if why is not None:
                _skip(seen, tier, why, tokens)
                continue
            if seen.last is not None and seen.last_tier is not None:
                reason = seen.last.error.code or str(seen.last.error.status)
                oplog.failover(seen.last_tier.name, tier.name, reason)
            alone = not any(self._open(t, min_context) for t in chain[index + 1 :])
            try:
                result, dropped = await self._on_tier(call, tier, shaped.body, tokens, alone)
            except Refused as refused:
                _skip(seen, tier, refused.blocked, tokens)
                continue
            except AttemptFailed as failed:
                changes = _changes(call.first, tier, shaped.changes, failed.dropped)
                if failed.action == "pass_through":
                    raise DeploymentError(failed.error, tier, changes, refused=True) from None
                seen.last, seen.last_tier, seen.last_changes = failed, tier, changes
                if failed.needs_larger_context:
                    min_context = max(min_context, tier.context_window)
            else:
                changes = _changes(call.first, tier, shaped.changes, dropped)
                return Outcome(tier, result, changes), seen
            if self.clock() >= call.deadline - MIN_ATTEMPT_S:
                break
        return None, seen

    async def _on_tier(
        self, call: _Call[T], tier: Tier, body: dict[str, Any], tokens: int, alone: bool
    ) -> tuple[T, list[str]]:
        """Try one deployment until it answers or its turn is over (AttemptFailed)."""
        dropped: list[str] = []
        while True:
            try:
                result = await self._retry_on(call, tier, body, tokens, alone)
            except AttemptFailed as failed:
                if failed.action != "drop_param" or failed.param not in body:
                    failed.dropped = tuple(dropped)
                    raise
                # A parameter this model refuses: drop it (and say so), ask again afresh.
                body = {k: v for k, v in body.items() if k != failed.param}
                dropped.append(f"dropped {failed.param} (rejected by {tier.deployment})")
                continue
            return result, dropped

    async def _retry_on(
        self, call: _Call[T], tier: Tier, body: dict[str, Any], tokens: int, alone: bool
    ) -> T:
        """tenacity drives the tries on one deployment; when, how long and whether to wait are
        ours (Retry-After first, then backoff; never past the cap, the deadline or a breaker)."""
        policy, deadline = call.policy, call.deadline

        def again(exc: BaseException) -> bool:
            return isinstance(exc, AttemptFailed) and (
                exc.action == "retry"
                or (exc.action == "fail_over" and exc.retry_when_last and alone)
            )

        def wait(state: RetryCallState) -> float:
            failed = _failure(state)
            if failed.wait_s is not None:
                return failed.wait_s
            exponential: float = policy.backoff_base_s * 2.0 ** (state.attempt_number - 1)
            return min(policy.backoff_max_s, exponential + policy.backoff_base_s * self.jitter())

        def stop(state: RetryCallState) -> bool:
            upcoming = state.upcoming_sleep
            blocked = self.health.blocked(tier.name)
            return (
                state.attempt_number >= policy.max_attempts
                or upcoming > policy.max_wait_s
                or self.clock() + upcoming >= deadline
                or (blocked is not None and blocked.reason == "breaker")  # the failure opened it
            )

        def before_sleep(state: RetryCallState) -> None:
            failed = _failure(state)
            reason = failed.error.code or str(failed.error.status)
            oplog.retry_wait(tier.name, state.upcoming_sleep, reason, state.attempt_number + 1)

        retrying = AsyncRetrying(
            sleep=self.sleep,
            retry=retry_if_exception(again),
            wait=wait,
            stop=stop,
            before_sleep=before_sleep,
            reraise=True,
        )
        async for try_ in retrying:
            with try_:
                state = try_.retry_state
                info = AttemptInfo(state.attempt_number, state.upcoming_sleep, deadline)
                return await self._attempt_once(tier, body, tokens, call.attempt, info)
        raise AssertionError("tenacity ended without a result")  # pragma: no cover

    async def _attempt_once(
        self, tier: Tier, body: dict[str, Any], tokens: int, attempt: Attempt[T], info: AttemptInfo
    ) -> T:
        """One attempt, and its verdict in the health book whatever its end."""
        refused = await self.health.admit(tier.name, tokens, check=info.number == 1)
        if refused is not None:
            raise Refused(refused)
        try:
            result = await attempt(tier, body, info)
        except AttemptFailed as failed:
            await self.health.settle(tier.name, _verdict(failed))
            raise
        except BaseException:
            self.health.release(tier.name)  # cancelled or broken: no verdict, but no probe
            raise
        left = remaining_tokens(result.headers)
        await self.health.settle(tier.name, Verdict("succeeded", None, left, tokens))
        return result

    def _pause_before_again(
        self,
        last: AttemptFailed | None,
        blocked: list[Blocked],
        deadline: float,
        policy: RetryPolicy,
    ) -> float | None:
        """When every deployment is only briefly held back (a cooldown, a spent budget), wait
        for the first to come back rather than fail: a short wait beats a 429 to the caller."""
        if last is not None or not blocked:
            return None
        waits = [b.wait_s for b in blocked if b.reason != "breaker"]
        if not waits:
            return None
        pause = min(waits)
        if pause > policy.max_wait_s or self.clock() + pause >= deadline:
            return None
        return pause

    def _give_up(self, seen: _Pass, deadline: float) -> ApiError:
        """Nothing answered: pass on a real error, or say truthfully when to come back."""
        blocked = seen.blocked
        last = seen.last.error if seen.last is not None else None
        if last is not None and self.clock() >= deadline and seen.last_tier is not None:
            oplog.request_budget_exhausted(seen.last_tier.name, last.status, last.code)
        if last is not None and last.status != 429:
            assert seen.last_tier is not None  # set together with seen.last
            return DeploymentError(last, seen.last_tier, seen.last_changes)
        waits = [b.wait_s for b in blocked]
        if seen.last is not None and seen.last.wait_s is not None:
            waits.append(seen.last.wait_s)  # whichever header said it (ms or s)
        retry_after = str(max(1, math.ceil(min(waits)))) if waits else "1"
        if last is None and blocked and all(b.reason == "breaker" for b in blocked):
            return ApiError(
                503,
                f"Every deployment that could answer is failing; retry after {retry_after} s.",
                type="api_error",
                code="upstream_unavailable",
                headers={"retry-after": retry_after},
            )
        return ApiError(
            429,
            f"Every deployment that could answer is rate limited; retry after {retry_after} s.",
            type="rate_limit_error",
            code="rate_limit_exceeded",
            headers={"retry-after": retry_after},
        )
