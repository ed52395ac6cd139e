"""An answer started on the small tier while the classifier reads the request.

When the scorer cannot decide, the classifier's call costs a small model's round trip before
the answer can even start. Most of those requests are simple, so the answer's upstream call
starts on the tier a "simple" verdict gives, alongside the classifier: on "simple" the
request has lost nothing to the classifier; on "complex" the started call is cancelled (its
connection closed) and the large tier is asked. A cancelled call costs at most the small
tier's tokens for it. Only the upstream call is started early: nothing is stored or relayed
before the verdict.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, Literal, TypeVar

from shared.routing.policy import Decision
from shared.upstream.calls import Answered, Streamed

T = TypeVar("T")
Start = Callable[[Decision], Coroutine[Any, Any, T]]
"""Starts the request's upstream call for a decision (a JSON answer or an open stream)."""
Close = Callable[[T], Awaitable[None]]
"""Releases what a started call holds that is not used (an open stream's connection)."""
GuessOutcome = Literal["taken", "dropped"]  # the router.guess attribute of router.decide


class Guess(Generic[T]):
    """The upstream call started on `tier` before the verdict."""

    def __init__(self, tier: str, task: asyncio.Task[T], close: Close[T]) -> None:
        self.tier = tier
        self.task = task
        self.close = close

    def fits(self, decision: Decision) -> bool:
        return decision.tier == self.tier

    def outcome(self, decision: Decision) -> GuessOutcome:
        return "taken" if self.fits(decision) else "dropped"

    async def take(self, decision: Decision) -> T | None:
        """The started call's result when `decision` is the tier it was started on (its
        error, if it failed, is the request's); else None, the call dropped."""
        if self.fits(decision):
            return await self.task
        await self.drop()
        return None

    async def drop(self) -> None:
        """Cancel the call, or release its result if it already came."""
        self.task.cancel()
        try:
            unused = await self.task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the request itself is being cancelled, not only the guess
            return
        except Exception:  # a failed guess is nobody's error: it was not used
            return
        await self.close(unused)


async def close_stream(sent: Answered | Streamed) -> None:
    """A started call that is not used: an open stream's connection is closed (a JSON answer
    holds nothing)."""
    if isinstance(sent, Streamed):
        await sent.aclose()
