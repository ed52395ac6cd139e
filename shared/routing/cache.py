"""A small in-memory TTL + LRU cache: this instance's classifier verdicts and sessions
(a shared/state/memory.py `Memory`; SharedMemory puts Redis behind one)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    def __init__(
        self, ttl_s: float, max_size: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.max_size = max_size
        self.clock = clock
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def get(self, key: str) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if expires <= self.clock():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    def put(self, key: str, value: V, ttl_s: float | None = None) -> None:
        """Keep `value` for `ttl_s` (default: the cache's own time to live)."""
        if self.max_size <= 0 or self.ttl_s <= 0:
            return
        self._items[key] = (self.clock() + min(self.ttl_s, ttl_s or self.ttl_s), value)
        self._items.move_to_end(key)
        while len(self._items) > self.max_size:
            self._items.popitem(last=False)

    async def recall(self, key: str) -> V | None:
        return self.get(key)

    async def remember(self, key: str, value: V) -> None:
        self.put(key, value)

    def __len__(self) -> int:
        return len(self._items)
