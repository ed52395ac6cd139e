"""Two or more "instances" of the router's state in one process, over a real redis-server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from shared.routing.cache import TtlCache
from shared.settings import BreakerPolicy
from shared.state.health import SharedHealth
from shared.state.link import RedisLink
from shared.state.memory import SharedMemory
from shared.upstream.health import HealthBook

Instance = Callable[..., Any]


async def connected(link: RedisLink) -> RedisLink:
    """Wait for the link's background PING (no request waits for it in the router)."""
    for _ in range(200):
        if link.up:
            return link
        await asyncio.sleep(0.01)
    raise AssertionError(f"redis never answered: {link.state}")


@pytest.fixture
async def links() -> AsyncIterator[list[RedisLink]]:
    made: list[RedisLink] = []
    yield made
    for link in made:
        await link.aclose()


@pytest.fixture
async def fresh_redis(redis_server: Any) -> str:
    client = aioredis.from_url(redis_server.url)
    await client.flushall()
    await client.aclose()
    return str(redis_server.url)


@pytest.fixture
def health_on(links: list[RedisLink]) -> Instance:
    """A SharedHealth as one instance of the app would make it, on the Redis at `url`."""

    async def make(
        url: str, tpm: int | None = None, failures: int = 3, cooldown_s: float = 30.0
    ) -> SharedHealth:
        link = RedisLink(aioredis.from_url(url), timeout_s=0.5, retry_s=0.2)
        links.append(link)
        book = HealthBook({"a": tpm, "b": None}, BreakerPolicy(failures, cooldown_s))
        return SharedHealth(await connected(link), book, {"a": 5.0, "b": 5.0})

    return make


@pytest.fixture
def memory_on(links: list[RedisLink]) -> Instance:
    async def make(url: str, **options: Any) -> SharedMemory:
        link = RedisLink(aioredis.from_url(url), timeout_s=0.5, retry_s=0.2)
        links.append(link)
        return SharedMemory(await connected(link), "session", TtlCache(60, 100), **options)

    return make
