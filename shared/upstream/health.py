"""Per-deployment health: Retry-After cooldowns, a circuit breaker, token and request budgets.

`Health` is what retries and failover ask (resilience.py); `HealthBook` is this instance's own
book, pure bookkeeping over an injected clock: no I/O, so every rule is tested without mocks.
shared/state/health.py keeps the same rules in Redis, for every instance of the app at once.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from shared import oplog
from shared.api import content_text
from shared.settings import BreakerPolicy

WINDOW_S = 60.0  # Azure's TPM quotas are per minute
# When a deployment says it has fewer tokens left than a request needs, skip it this long.
LOW_REMAINING_HOLD_S = 5.0
# Azure's estimator counts max_tokens against the quota; absent, it assumes this many.
DEFAULT_OUTPUT_ESTIMATE = 1000
# Azure OpenAI grants 6 requests per minute for every 1,000 tokens per minute of quota:
# https://learn.microsoft.com/azure/ai-services/openai/how-to/quota (6 RPM per 1000 TPM)
RPM_PER_1000_TPM = 6


def requests_per_minute(tpm: int | None) -> int | None:
    """The request budget that comes with a token quota (None: no quota, no budget)."""
    return None if not tpm else max(1, tpm * RPM_PER_1000_TPM // 1000)


def estimate_tokens(body: Mapping[str, Any]) -> int:
    """Tokens a request will count against a TPM quota: prompt (~4 chars each) + its output cap."""
    chars = sum(len(content_text(m.get("content"))) for m in body.get("messages") or [])
    prompt = math.ceil(chars / 4) + 4 * len(body.get("messages") or [])
    output = body.get("max_completion_tokens") or body.get("max_tokens")
    return prompt + (output if isinstance(output, int) else DEFAULT_OUTPUT_ESTIMATE)


def breaker_memory(policy: BreakerPolicy) -> int:
    """A breaker opens after `failures_to_open` failures among the last calls (2x as many, at
    least 10). Counting failures among recent calls, not in a row, also catches a flapping
    deployment."""
    return max(10, 2 * policy.failures_to_open)


@dataclass
class _State:
    recent: deque[bool] = field(default_factory=deque)  # True for a success
    open_until: float = 0.0
    probing: bool = False  # half-open: one probe is out, everyone else waits
    cooldown_until: float = 0.0  # the deployment's own Retry-After
    spent: deque[tuple[float, int]] = field(default_factory=deque)
    used: int = 0  # the tokens in `spent`: kept as it changes, never summed per request
    low_until: float = 0.0  # its x-ratelimit-remaining-tokens said "not enough"


@dataclass(frozen=True, slots=True)
class Blocked:
    """Why a deployment is skipped now, and how long until it may be tried again."""

    reason: str  # "cooldown" | "breaker" | "budget"
    wait_s: float


VerdictKind = Literal["succeeded", "answered", "fault", "throttled", "released"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """How an attempt ended, for the book: see HealthBook's method of the same name."""

    kind: VerdictKind
    retry_after_s: float | None = None  # throttled: the deployment's Retry-After
    remaining_tokens: int | None = None  # succeeded: its x-ratelimit-remaining-tokens
    needed: int = 0  # succeeded: what the request was estimated to need


class Health(Protocol):
    """What retries and failover ask of a deployment's health, per instance or shared."""

    def blocked(self, name: str, tokens: int = 0) -> Blocked | None:
        """A quick look (no I/O): None when `name` looks callable for `tokens`."""

    async def admit(self, name: str, tokens: int, *, check: bool = True) -> Blocked | None:
        """An attempt wants to go out: charge the budgets and, if the breaker is half-open,
        take its one probe. `check`: refuse (and charge nothing) when blocked; a retry on the
        same deployment is charged without one, as its first try was let by."""

    async def settle(self, name: str, verdict: Verdict) -> None:
        """How the attempt ended."""

    def release(self, name: str) -> None:
        """An attempt ended without a verdict (cancelled): free its probe; never waits."""

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """For /api/health."""


class HealthBook:
    def __init__(
        self,
        tpm: Mapping[str, int | None],
        breaker: BreakerPolicy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tpm = dict(tpm)
        self.breaker = breaker
        self.clock = clock
        self._states: dict[str, _State] = {}

    def _state(self, name: str) -> _State:
        state = self._states.get(name)
        if state is None:
            state = self._states[name] = _State(recent=deque(maxlen=breaker_memory(self.breaker)))
        return state

    def blocked(self, name: str, tokens: int = 0) -> Blocked | None:
        """None when `name` may be called now for a request of `tokens`; else why not."""
        now = self.clock()
        state = self._state(name)
        if state.cooldown_until > now:
            return Blocked("cooldown", state.cooldown_until - now)
        if state.open_until > now:
            return Blocked("breaker", state.open_until - now)
        if state.open_until and state.probing:
            return Blocked("breaker", self.breaker.cooldown_s)
        if state.low_until > now:
            return Blocked("budget", state.low_until - now)
        wait = self._budget_wait(name, state, tokens, now)
        return Blocked("budget", wait) if wait > 0 else None

    def _budget_wait(self, name: str, state: _State, tokens: int, now: float) -> float:
        quota = self.tpm.get(name)
        if not quota:
            return 0.0
        spent = state.spent
        while spent and spent[0][0] <= now - WINDOW_S:
            state.used -= spent.popleft()[1]
        if not spent:
            return 0.0  # an empty window always admits one request, however large
        wait = 0.0
        rpm = requests_per_minute(quota)
        if rpm is not None and len(spent) + 1 > rpm:
            # The request budget frees up when enough of the oldest requests leave the window.
            wait = spent[len(spent) - rpm][0] + WINDOW_S - now
        used = state.used
        if used + tokens <= quota:
            return wait
        # Wait until enough of the window has expired to fit this request.
        freed = 0
        for at, spent_tokens in spent:
            freed += spent_tokens
            if used - freed + tokens <= quota:
                return max(wait, at + WINDOW_S - now)
        return WINDOW_S

    async def admit(self, name: str, tokens: int, *, check: bool = True) -> Blocked | None:
        if check:
            why = self.blocked(name, tokens)
            if why is not None:
                return why
        self.start(name, tokens)
        return None

    async def settle(self, name: str, verdict: Verdict) -> None:
        self.apply(name, verdict)

    def release(self, name: str) -> None:
        self.released(name)

    def apply(self, name: str, verdict: Verdict) -> None:
        kind = verdict.kind
        if kind == "succeeded":
            self.succeeded(name, verdict.remaining_tokens, verdict.needed)
        elif kind == "answered":
            self.answered(name)
        elif kind == "fault":
            self.failed(name)
        elif kind == "throttled":
            self.throttled(name, verdict.retry_after_s)
        else:
            self.released(name)

    def start(self, name: str, tokens: int) -> None:
        """An attempt is going out: charge the budget; a half-open breaker lets only this one by."""
        state = self._state(name)
        now = self.clock()
        if self.tpm.get(name):
            state.spent.append((now, tokens))
            state.used += tokens
        if state.open_until and state.open_until <= now and not state.probing:
            state.probing = True
            oplog.breaker(name, "half-open")

    def succeeded(self, name: str, remaining_tokens: int | None = None, needed: int = 0) -> None:
        self.answered(name)
        if remaining_tokens is not None and remaining_tokens < needed:
            self._state(name).low_until = self.clock() + LOW_REMAINING_HOLD_S

    def answered(self, name: str) -> None:
        """The deployment judged the request (an answer, or a 400 about the request): it works."""
        state = self._state(name)
        if state.open_until:  # the half-open probe came back well: close
            state.recent.clear()
            oplog.breaker(name, "closed")
        state.recent.append(True)
        state.open_until = 0.0
        state.probing = False

    def released(self, name: str) -> None:
        """An attempt that says nothing about the deployment ended (cancelled, auth refused):
        a probe it was is over, so the next call may probe again."""
        self._state(name).probing = False

    def throttled(self, name: str, retry_after_s: float | None) -> None:
        """A 429: not a fault of the deployment, so the breaker doesn't count it."""
        state = self._state(name)
        state.probing = False
        if retry_after_s:
            state.cooldown_until = max(state.cooldown_until, self.clock() + retry_after_s)

    def failed(self, name: str) -> None:
        state = self._state(name)
        state.recent.append(False)
        failures = state.recent.count(False)
        if state.probing or failures >= self.breaker.failures_to_open:
            state.open_until = self.clock() + self.breaker.cooldown_s
            state.probing = False
            state.recent.clear()
            oplog.breaker(name, "open", self.breaker.cooldown_s)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """For /api/health: each deployment's breaker and cooldown, in seconds from now."""
        now = self.clock()
        view = {}
        for name, state in self._states.items():
            if state.open_until > now:
                breaker = "open"
            elif state.open_until:
                breaker = "half-open"
            else:
                breaker = "closed"
            view[name] = {
                "breaker": breaker,
                "recent_failures": state.recent.count(False),
                "cooldown_s": round(max(0.0, state.cooldown_until - now), 3),
                "tokens_in_window": sum(t for at, t in state.spent if at > now - WINDOW_S),
                "tpm": self.tpm.get(name),
            }
        return view
