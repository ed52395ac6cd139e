"""Remembered strings with a time to live, shared by every instance: escalated sessions and the
classifier's verdicts.

`Memory` is what the routing policy and the classifier use; `TtlCache` (this instance's own)
and `SharedMemory` (Redis, with this instance's cache in front) both are one.

Reads: a value this instance holds and that cannot change is answered locally (a verdict; a
session on the large tier, which is escalate-only); anything else is one GET. Writes go out in the
background, but an escalation, which is awaited. So a verdict is eventually consistent (two
instances may ask the classifier the same new question at the same moment: both ask) and a
session's escalation is exact: written before its answer leaves, read by the next turn anywhere.
Keys are hashed: a session id or an ask's text never reaches Redis as such.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from typing import Protocol

from shared.routing.cache import TtlCache
from shared.state.link import RedisLink, Unavailable

# Set unless the key holds the value that must stay (a session's large tier: escalate-only,
# whichever instance decided later); one script, so no other write comes in between.
# A value and its milliseconds to live, in one command.
GET_WITH_TTL = """
local value = redis.call('GET', KEYS[1])
if not value then return false end
return {value, redis.call('PTTL', KEYS[1])}
"""
PUT = """
if ARGV[3] ~= '' and redis.call('GET', KEYS[1]) == ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


class Memory(Protocol):
    async def recall(self, key: str) -> str | None: ...

    async def remember(self, key: str, value: str) -> None: ...


def redis_key(namespace: str, key: str) -> str:
    digest = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    return f"router:{namespace}:{digest}"


class SharedMemory:
    def __init__(
        self,
        link: RedisLink,
        namespace: str,
        local: TtlCache[str],
        *,
        final: Callable[[str], bool] = lambda _: True,
        sticky: str | None = None,
    ) -> None:
        """`final`: a local value that needs no asking; `sticky`: a value never overwritten."""
        self.link = link
        self.namespace = namespace
        self.local = local
        self.final = final
        self.sticky = sticky
        self._put = link.client.register_script(PUT)
        self._get = link.client.register_script(GET_WITH_TTL)

    async def recall(self, key: str) -> str | None:
        known = self.local.get(key)
        if known is not None and self.final(known):
            return known
        if not await self.link.ready():
            return known
        name = redis_key(self.namespace, key)
        try:
            found = await self.link.run(lambda _r: self._get(keys=[name]))
        except Unavailable:
            return known
        if not found:
            return known  # flushed or expired there: what this instance knows still holds
        value, ttl_ms = found
        text = value.decode() if isinstance(value, bytes) else str(value)
        self.local.put(key, text, ttl_s=ttl_ms / 1000 if ttl_ms and ttl_ms > 0 else None)
        return text

    async def remember(self, key: str, value: str) -> None:
        """Written in the background, but for the sticky value (an escalation: rare, and the
        next turn, wherever it lands, must see it), which is awaited within the bound."""
        self.local.put(key, value)
        if self.local.ttl_s <= 0 or self.local.max_size <= 0:
            return  # remembering is turned off
        ttl_ms = max(1, int(self.local.ttl_s * 1000))
        name = redis_key(self.namespace, key)
        args = [value, ttl_ms, self.sticky or ""]
        if value != self.sticky:
            self.link.spawn(lambda _r: self._put(keys=[name], args=args))
            return
        with contextlib.suppress(Unavailable):
            await self.link.run(lambda _r: self._put(keys=[name], args=args))
