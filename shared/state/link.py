"""The one connection to Redis, and whether the shared state may be used right now.

Every call is bounded by `timeout_s` (ROUTER_REDIS_TIMEOUT_MS): Redis down, slow or failing
over costs a request at most that. A failed call marks the link down: callers use per-instance
state without asking, and every `retry_s` a PING in the background (never a request) checks
whether Redis is back; the link is up again once it answers. The first connection is made the
same way; the first requests wait for it at most `timeout_s` (loopback or the same region
connects in a few ms; a TLS handshake and a first Entra token may take longer, and then those
requests go on with per-instance state).
Going down and coming back are each logged once in the operator log. Writes that nothing waits for
(a session's tier, a verdict, a success) go out in the background, a bounded number at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from shared import oplog

T = TypeVar("T")
Op = Callable[[Any], Awaitable[T]]
"""One exchange with Redis: (the redis.asyncio client) -> its reply."""

RETRY_S = 5.0  # how long per-instance state is used before Redis is asked again
CONNECT_S = 10.0  # the background PING's own bound: a first connection, a token, a failover
MAX_PENDING = 32  # background writes in flight; beyond that one is dropped, not queued


class Unavailable(Exception):
    """Redis did not answer within the bound (or is known to be down): use per-instance state."""


class RedisLink:
    def __init__(
        self,
        client: Any,
        timeout_s: float,
        *,
        retry_s: float = RETRY_S,
        connect_s: float = CONNECT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client  # redis.asyncio.Redis (typed Any: redis-py's stubs are partial)
        self.timeout_s = timeout_s
        self.retry_s = retry_s
        self.connect_s = connect_s
        self.clock = clock
        self._up = False
        self._ever_up = False
        self._down_since: float | None = None  # since when it failed (None: never, or back)
        self._retry_at = 0.0
        self._checking: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[Any]] = set()

    @property
    def up(self) -> bool:
        """Whether to ask Redis now; when not, a background check may be started."""
        if not self._up and self._checking is None and self.clock() >= self._retry_at:
            # Without a running loop (set-up) the first request's look starts it.
            with contextlib.suppress(RuntimeError):
                self._checking = asyncio.get_running_loop().create_task(self._check())
        return self._up

    async def ready(self) -> bool:
        """`up`, but before the first connection has ever answered, wait for it (within
        `timeout_s`): an instance's first requests share state as its later ones do."""
        if self.up or self._ever_up or self._down_since is not None:
            return self._up
        checking = self._checking
        if checking is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.timeout_s):
                    await asyncio.shield(checking)
        return self._up

    @property
    def state(self) -> str:
        """For /api/health: "redis" (shared), "per-instance" (Redis unavailable) or
        "connecting" (not yet answered)."""
        if self.up:  # and, when not, a check in the background
            return "redis"
        return "per-instance" if self._down_since is not None else "connecting"

    async def _check(self) -> None:
        try:
            async with asyncio.timeout(self.connect_s):
                await self.client.ping()
        except Exception as exc:
            self._went_down(exc)
        else:
            self._came_back()
        finally:
            self._checking = None

    async def run(self, op: Op[T]) -> T:
        """`op`'s reply, or Unavailable within `timeout_s`."""
        if not self._up:
            raise Unavailable("redis is down")
        try:
            async with asyncio.timeout(self.timeout_s):
                reply = await op(self.client)
        except Exception as exc:  # timeouts, refused connections, failover, OOM: all the same
            self._went_down(exc)
            raise Unavailable(type(exc).__name__) from exc
        return reply

    def spawn(self, op: Op[T], then: Callable[[T], None] | None = None) -> None:
        """Run `op` in the background (nothing waits for it); `then` gets its reply."""
        if not self._up or len(self._pending) >= MAX_PENDING:
            return
        task = asyncio.ensure_future(self._quietly(op, then))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _quietly(self, op: Op[T], then: Callable[[T], None] | None) -> None:
        try:
            reply = await self.run(op)
        except Unavailable:
            return
        if then is not None:
            then(reply)

    async def drain(self) -> None:
        """Wait for the background writes (tests, shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def _went_down(self, exc: BaseException) -> None:
        now = self.clock()
        self._up = False
        self._retry_at = now + self.retry_s
        if self._down_since is None:
            self._down_since = now
            oplog.shared_state("unavailable", type(exc).__name__)

    def _came_back(self) -> None:
        if self._down_since is not None:
            oplog.shared_state("restored", per_instance_s=round(self.clock() - self._down_since, 1))
        elif not self._ever_up:
            oplog.shared_state("connected")
        self._up = self._ever_up = True
        self._down_since = None

    async def aclose(self) -> None:
        await self.drain()
        if self._checking is not None:
            self._checking.cancel()
        await self.client.aclose()
