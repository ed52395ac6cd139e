"""Per-deployment TPM/RPM quota over a sliding window, charged at admission like Azure does."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

# Azure's estimator charges max_tokens on top of the prompt; without it, a default.
DEFAULT_COMPLETION_ESTIMATE = 1000


@dataclass(frozen=True)
class Admission:
    """The outcome of asking for quota: allowed or not, what is left (-1: no limit), and when
    to retry."""

    allowed: bool
    remaining_tokens: int
    remaining_requests: int
    retry_after_s: float = 0.0

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after_s)))

    @property
    def retry_after_ms_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after_s * 1000)))


class SlidingWindowQuota:
    """Tokens and requests admitted within the last `window_s` seconds."""

    __slots__ = ("_events", "_used", "rpm", "tpm", "window_s")

    def __init__(self, tpm: int | None, rpm: int | None, window_s: float = 60.0) -> None:
        self.tpm = tpm
        self.rpm = rpm
        self.window_s = window_s
        self._events: deque[tuple[float, int]] = deque()
        self._used = 0

    def _expire(self, now: float) -> None:
        horizon = now - self.window_s
        events = self._events
        while events and events[0][0] <= horizon:
            self._used -= events.popleft()[1]

    def _remaining(self) -> tuple[int, int]:
        tokens = -1 if self.tpm is None else max(0, self.tpm - self._used)
        requests = -1 if self.rpm is None else max(0, self.rpm - len(self._events))
        return tokens, requests

    def admit(self, tokens: int, now: float) -> Admission:
        """Charge `tokens` at `now` if both limits allow; else say how long until they would."""
        self._expire(now)
        over_requests = self.rpm is not None and len(self._events) + 1 > self.rpm
        over_tokens = self.tpm is not None and self._used + tokens > self.tpm
        if not (over_requests or over_tokens):
            self._events.append((now, tokens))
            self._used += tokens
            remaining_tokens, remaining_requests = self._remaining()
            return Admission(True, remaining_tokens, remaining_requests)
        wait = 0.0
        if over_requests and self.rpm is not None:
            # The request limit frees up when enough of the oldest requests leave the window.
            index = len(self._events) - self.rpm
            wait = self._events[index][0] + self.window_s - now
        if over_tokens and self.tpm is not None:
            wait = max(wait, self._token_wait(tokens, now))
        remaining_tokens, remaining_requests = self._remaining()
        return Admission(False, remaining_tokens, remaining_requests, max(wait, 0.001))

    def _token_wait(self, tokens: int, now: float) -> float:
        assert self.tpm is not None
        if tokens > self.tpm:
            # Never fits; Azure still answers with a retry hint of a full window.
            return self.window_s
        excess = self._used + tokens - self.tpm
        freed = 0
        for at, charged in self._events:
            freed += charged
            if freed >= excess:
                return at + self.window_s - now
        return self.window_s

    def clear(self) -> None:
        self._events.clear()
        self._used = 0
