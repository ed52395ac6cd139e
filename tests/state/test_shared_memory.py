"""Sessions and classifier verdicts shared through a real redis-server."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from tests.state.conftest import Instance

LARGE = "large"


def session_memory(memory_on: Instance, url: str) -> Any:
    return memory_on(url, final=lambda tier: tier == LARGE, sticky=LARGE)


async def test_a_session_escalated_on_one_instance_is_large_on_the_other(
    fresh_redis: str, memory_on: Instance
) -> None:
    one, two = (
        await session_memory(memory_on, fresh_redis),
        await session_memory(memory_on, fresh_redis),
    )
    assert await two.recall("conversation-1") is None
    await one.remember("conversation-1", LARGE)  # an escalation is written before it returns
    assert await two.recall("conversation-1") == LARGE


async def test_a_later_small_decision_elsewhere_does_not_take_the_escalation_back(
    fresh_redis: str, memory_on: Instance
) -> None:
    one, two, three = [await session_memory(memory_on, fresh_redis) for _ in range(3)]
    await one.remember("conversation-2", LARGE)
    await one.link.drain()
    await two.remember("conversation-2", "small")  # decided at the same moment, before it knew
    await two.link.drain()
    assert await three.recall("conversation-2") == LARGE


async def test_a_small_session_is_asked_again_a_large_one_is_not(
    fresh_redis: str, memory_on: Instance
) -> None:
    one, two = (
        await session_memory(memory_on, fresh_redis),
        await session_memory(memory_on, fresh_redis),
    )
    await two.remember("conversation-3", "small")
    await two.link.drain()
    await one.remember("conversation-3", LARGE)
    await one.link.drain()
    assert await two.recall("conversation-3") == LARGE  # its own "small" was not the last word
    client = aioredis.from_url(fresh_redis)
    await client.flushall()
    await client.aclose()
    assert await two.recall("conversation-3") == LARGE  # final, kept locally


async def test_a_verdict_is_shared_and_its_text_never_stored(
    fresh_redis: str, memory_on: Instance
) -> None:
    one, two = await memory_on(fresh_redis), await memory_on(fresh_redis)
    ask = "where is my parcel 1234"
    await one.remember(ask, "simple")
    await one.link.drain()
    assert await two.recall(ask) == "simple"
    client = aioredis.from_url(fresh_redis)
    keys = [k.decode() for k in await client.keys("*")]
    await client.aclose()
    assert len(keys) == 1
    assert "parcel" not in keys[0]


async def test_redis_stopped_recalls_what_this_instance_knows(
    own_redis: Any, memory_on: Instance
) -> None:
    one = await memory_on(own_redis.url)
    await one.remember("ask", "complex")
    await one.link.drain()
    own_redis.stop()
    assert await one.recall("ask") == "complex"
    assert await one.recall("never asked") is None
