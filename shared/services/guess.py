"""An answer started on the small tier while the classifier reads the request.

When the scorer cannot decide, the classifier's call costs a small model's round trip before
the answer can even start. Most of those requests are simple, so the answer's upstream call
starts on the tier a "simple" verdict gives, alongside the classifier: on "simple" the
request has lost nothing to the classifier; on "complex" the started call is cancelled (its
connection closed) and the large tier is asked. A cancelled call costs at most the small
tier's tokens for it. Only the upstream call is started early: nothing is stored or relayed
before the verdict.

The early call is one attempt on that tier: no retry, no failover. Failover leads up to the
large tier, which a "complex" verdict asks anyway (it would be asked twice), and a retry's
wait would hold up a "simple" verdict's answer. If the attempt fails, the request is sent as
any other once the verdict is in: the health book now knows the tier's state (a cooldown, a
breaker), so it is retried or failed over from there. A request the tier refused (the caller's
own 4xx, a content filter) is not sent again: it would be refused again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, Literal, Protocol, TypeVar

from shared.api import ApiError
from shared.routing.policy import Decision
from shared.upstream.calls import Answered, Streamed
from shared.upstream.outcomes import DeploymentError

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Start(Protocol[T_co]):
    """Starts the request's upstream call for a decision (a JSON answer or an open stream);
    `one_shot`: one attempt on the decision's tier only (Upstream.complete)."""

    def __call__(
        self, decision: Decision, *, one_shot: bool = False
    ) -> Coroutine[Any, Any, T_co]: ...


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
        """The started call's result when `decision` is the tier it was started on and the
        call answered; else None: the call dropped, or its one attempt failed (the request is
        then sent as any other). A refusal of the request itself is the request's error."""
        if not self.fits(decision):
            await self.drop()
            return None
        try:
            return await self.task
        except ApiError as failed:
            if isinstance(failed, DeploymentError) and failed.refused:
                raise
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
