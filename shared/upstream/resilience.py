"""Retries, failover and deadlines around single upstream attempts.

Per deployment, tenacity retries what is worth retrying (429, 408, 5xx, transport errors and
timeouts), waiting what the deployment asked for (retry-after-ms, x-ms-retry-after-ms,
Retry-After) or else exponential backoff with jitter. A wait that is longer than the cap or that
would overrun the request's deadline is not taken: the next deployment of the fallback chain is
tried instead, and when none is left the caller gets 429 or 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from shared.api import ApiError
from shared.settings import Settings, Tier
from shared.upstream.health import Blocked, HealthBook, estimate_tokens
from shared.upstream.models import shape_for_tier

T = TypeVar("T")
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# 400 codes with which a model rejects a parameter another model accepts: drop it, ask again.
REJECTED_PARAM_CODES = frozenset({"unsupported_parameter", "unsupported_value"})
UNDROPPABLE = frozenset({"messages", "model", "stream"})


def upstream_wait_s(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The wait a deployment asked for, in seconds, from the most precise header it sent."""
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) / 1000)
            except ValueError:
                pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def remaining_tokens(result: object) -> int | None:
    """What the deployment says is left of its token quota (x-ratelimit-remaining-tokens)."""
    headers = getattr(result, "headers", None)
    value = headers.get("x-ratelimit-remaining-tokens") if headers is not None else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class Retryable(Exception):
    """An attempt failed in a way another attempt may fix; carries what to tell the caller."""

    def __init__(self, error: ApiError, wait_s: float | None = None, fault: bool = True) -> None:
        super().__init__(error.message)
        self.error = error
        self.wait_s = wait_s
        self.fault = fault  # False for a 429: throttling, not a broken deployment


class FailOver(Exception):
    """Stop trying this deployment now and move down the chain (e.g. context too long)."""

    def __init__(self, error: ApiError, needs_larger_context: bool = False) -> None:
        super().__init__(error.message)
        self.error = error
        self.needs_larger_context = needs_larger_context


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 3
    backoff_base_s: float = 1.0
    backoff_max_s: float = 8.0
    max_wait_s: float = 10.0  # an upstream wait longer than this fails over instead

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            settings.max_attempts,
            settings.backoff_base_s,
            settings.backoff_max_s,
            settings.max_retry_wait_s,
        )


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    tier: Tier
    result: T
    changes: tuple[str, ...]


Attempt = Callable[[Tier, dict[str, Any], int, float, float], Awaitable[T]]
"""One call to one deployment: (tier, body, attempt number, wait before it, deadline) -> result."""


def rejected_param(error: ApiError, body: Mapping[str, Any]) -> str | None:
    """The parameter a model refused, when dropping it is a fair way to still answer."""
    param = error.param
    if error.code in REJECTED_PARAM_CODES and param in body and param not in UNDROPPABLE:
        return param
    return None


def fallback_chain(settings: Settings, first: Tier) -> list[Tier]:
    """The tier and its fallbacks, breadth first, each once."""
    chain = [first]
    for tier in chain:
        for name in tier.fallbacks:
            fallback = settings.tier(name)
            if fallback not in chain:
                chain.append(fallback)
    return chain


class Resilience:
    def __init__(self, settings: Settings, health: HealthBook, policy: RetryPolicy) -> None:
        self.settings = settings
        self.health = health
        self.policy = policy

    async def call(
        self,
        first: Tier,
        body: dict[str, Any],
        deadline: float,
        attempt: Attempt[T],
    ) -> Outcome[T]:
        """Run `attempt` down the fallback chain of `first` until one answers or time is up."""
        while True:
            outcome, last, blocked = await self._down_the_chain(first, body, deadline, attempt)
            if outcome is not None:
                return outcome
            pause = self._pause_before_again(last, blocked, deadline)
            if pause is None:
                raise self._give_up(last, blocked)
            await asyncio.sleep(pause)

    async def _down_the_chain(
        self, first: Tier, body: dict[str, Any], deadline: float, attempt: Attempt[T]
    ) -> tuple[Outcome[T] | None, ApiError | None, list[Blocked]]:
        """One pass over the chain: an answer, or the last error and who was skipped."""
        blocked: list[Blocked] = []
        last: ApiError | None = None
        min_context = 0
        for tier in fallback_chain(self.settings, first):
            if tier.context_window <= min_context:
                continue
            shaped = shape_for_tier(body, tier)
            tokens = estimate_tokens(shaped.body)
            why = self.health.blocked(tier.name, tokens)
            if why is not None:
                blocked.append(why)
                continue
            try:
                result, dropped = await self._on_tier(tier, shaped.body, tokens, deadline, attempt)
            except Retryable as exc:
                last = exc.error
            except FailOver as exc:
                last = exc.error
                if exc.needs_larger_context:
                    min_context = max(min_context, tier.context_window)
            else:
                changes = (*shaped.changes, *dropped)
                if tier is not first:
                    changes = (*changes, f"failover {first.name}->{tier.name}")
                return Outcome(tier, result, changes), None, []
            if time.monotonic() >= deadline:
                break
        return None, last, blocked

    async def _on_tier(
        self,
        tier: Tier,
        body: dict[str, Any],
        tokens: int,
        deadline: float,
        attempt: Attempt[T],
    ) -> tuple[T, list[str]]:
        """Retry on one deployment; a parameter it refuses is dropped (and said) and asked again."""
        dropped: list[str] = []
        while True:
            try:
                return await self._retry_on(tier, body, tokens, deadline, attempt), dropped
            except ApiError as error:
                param = rejected_param(error, body)
                if param is None:
                    raise
                body = {k: v for k, v in body.items() if k != param}
                dropped.append(f"dropped {param} (rejected by {tier.deployment})")

    def _pause_before_again(
        self, last: ApiError | None, blocked: list[Blocked], deadline: float
    ) -> float | None:
        """When every deployment is only briefly held back (a cooldown, a spent budget), wait
        for the first to come back rather than fail: a short wait beats a 429 to the caller."""
        if last is not None or not blocked:
            return None
        waits = [b.wait_s for b in blocked if b.reason != "breaker"]
        if not waits:
            return None
        pause = min(waits)
        if pause > self.policy.max_wait_s or time.monotonic() + pause >= deadline:
            return None
        return pause

    async def _retry_on(
        self,
        tier: Tier,
        body: dict[str, Any],
        tokens: int,
        deadline: float,
        attempt: Attempt[T],
    ) -> T:
        policy = self.policy
        backoff = wait_exponential_jitter(
            multiplier=policy.backoff_base_s, max=policy.backoff_max_s, jitter=policy.backoff_base_s
        )

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, Retryable) and exc.wait_s is not None:
                return exc.wait_s
            return backoff(state)

        def stop(state: RetryCallState) -> bool:
            # A wait we won't take, or an open breaker, ends this deployment's turn.
            upcoming = state.upcoming_sleep
            blocked = self.health.blocked(tier.name, 0)
            return (
                upcoming > policy.max_wait_s
                or time.monotonic() + upcoming >= deadline
                or (blocked is not None and blocked.reason == "breaker")
            )

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(Retryable),
            wait=wait,
            stop=stop_after_attempt(policy.max_attempts) | stop,
            reraise=True,
        )
        async for try_ in retrying:
            with try_:
                state = try_.retry_state
                self.health.start(tier.name, tokens)
                try:
                    result = await attempt(
                        tier, body, state.attempt_number, state.idle_for, deadline
                    )
                except Retryable as exc:
                    if exc.fault:
                        self.health.failed(tier.name)
                    else:
                        self.health.throttled(tier.name, exc.wait_s)
                    raise
                self.health.succeeded(tier.name, remaining_tokens(result), tokens)
                return result
        raise AssertionError("tenacity ended without a result")  # pragma: no cover

    def _give_up(self, last: ApiError | None, blocked: list[Blocked]) -> ApiError:
        """Nothing answered: pass on a real error, or say truthfully when to come back."""
        if last is not None and last.status != 429:
            return last
        waits = [b.wait_s for b in blocked]
        if last is not None and "retry-after" in last.headers:
            waits.append(upstream_wait_s(last.headers) or 1.0)
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
