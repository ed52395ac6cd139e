"""The Responses store with every call bounded: storage that is down, paused or slow costs a
request at most `timeout_s` per call and is reported as `StoreUnavailable`, never a hang or a
500.

A write is the one call that comes after the model has answered (and been paid for): it gets
`timeout_s` in all (less when the request's budget has less left), within which a failed try is
made once more, and says whether the response
is stored rather than raising. A write that could not be confirmed is then removed as far as
storage lets it be, so that GET and item_reference agree that it is not there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

from shared.responses.store import ResponseStore, StoredResponse

log = logging.getLogger("hybrid_router.responses")
T = TypeVar("T")

RETRY_PAUSE_S = 0.1
CLEANUP_S = 1.0  # the removal of an unconfirmed write: best effort, never longer than this


class StoreUnavailable(Exception):
    """Storage did not answer within its time, or refused."""


class BoundedStore:
    def __init__(
        self, inner: ResponseStore, timeout_s: float, failures: tuple[type[Exception], ...] = ()
    ) -> None:
        self.inner = inner
        self.timeout_s = timeout_s
        # What storage raises when it fails (a timeout, the network, its SDK's errors).
        self.failures: tuple[type[Exception], ...] = (TimeoutError, OSError, *failures)

    @property
    def ttl_s(self) -> float:
        return self.inner.ttl_s

    async def get(self, response_id: str, context: bool = True) -> StoredResponse | None:
        return await self._bounded("get", self.inner.get(response_id, context))

    async def holder(self, item_id: str) -> str | None:
        return await self._bounded("holder", self.inner.holder(item_id))

    async def delete(self, response_id: str) -> bool:
        return await self._bounded("delete", self.inner.delete(response_id))

    async def put(
        self,
        response_id: str,
        record: StoredResponse,
        parent: StoredResponse,
        limit_s: float | None = None,
    ) -> bool:
        """True once stored; False when storage would not take it within `timeout_s` (or the
        shorter `limit_s`)."""
        try:
            async with asyncio.timeout(min(self.timeout_s, limit_s or self.timeout_s)):
                try:
                    await self.inner.put(response_id, record, parent)
                except self.failures as exc:
                    if isinstance(exc, TimeoutError):
                        raise
                    _warn("put", exc, "trying once more")
                    await asyncio.sleep(RETRY_PAUSE_S)
                    await self.inner.put(response_id, record, parent)
            return True
        except self.failures as exc:
            _warn("put", exc, "the response is returned unstored")
        try:
            async with asyncio.timeout(CLEANUP_S):
                await self.inner.delete(response_id)
        except self.failures as exc:
            _warn("delete", exc, "an unconfirmed write may remain")
        return False

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def _bounded(self, what: str, call: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(self.timeout_s):
                return await call
        except self.failures as exc:
            _warn(what, exc, "answered 503")
            raise StoreUnavailable(what) from None


def _warn(what: str, exc: BaseException, then: str) -> None:
    # The exception's type only: storage errors can carry URLs with SAS tokens.
    log.warning("responses store %s failed (%s); %s", what, type(exc).__name__, then)
