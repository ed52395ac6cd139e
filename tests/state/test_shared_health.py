"""Deployment health shared through a real redis-server by two instances of the router."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import redis.asyncio as aioredis

from devtools import redis as redis_server
from shared.settings import BreakerPolicy
from shared.upstream.health import Blocked, HealthBook, Verdict
from tests.state.conftest import Instance


def reason(blocked: Blocked | None) -> str | None:
    return None if blocked is None else blocked.reason


async def test_the_token_budget_is_drawn_once_for_every_instance(
    fresh_redis: str, health_on: Instance
) -> None:
    one, two = await health_on(fresh_redis, tpm=1000), await health_on(fresh_redis, tpm=1000)
    assert await one.admit("a", 600) is None
    assert await two.admit("a", 300) is None
    refused = await two.admit("a", 300)
    assert reason(refused) == "budget"
    assert refused is not None
    assert 50 < refused.wait_s <= 70  # a 10 s bucket fades out of the 60 s window over 10 s
    # Per instance, the same three requests all go: 1,200 tokens of a 1,000 quota.
    first, second = (HealthBook({"a": 1000}, BreakerPolicy()) for _ in range(2))
    assert await first.admit("a", 600) is None
    assert await second.admit("a", 300) is None
    assert await second.admit("a", 300) is None


async def test_the_request_budget_comes_with_the_token_quota(
    fresh_redis: str, health_on: Instance
) -> None:
    one, two = await health_on(fresh_redis, tpm=1000), await health_on(fresh_redis, tpm=1000)
    answers = [await (one, two)[i % 2].admit("a", 1) for i in range(7)]
    assert answers[:6] == [None] * 6  # 6 requests a minute per 1,000 tokens a minute
    assert reason(answers[6]) == "budget"


async def test_an_empty_window_admits_one_request_however_large(
    fresh_redis: str, health_on: Instance
) -> None:
    one = await health_on(fresh_redis, tpm=1000)
    assert await one.admit("a", 5000) is None
    assert await one.admit("a", 1) is not None


async def test_a_retry_is_charged_without_a_check(fresh_redis: str, health_on: Instance) -> None:
    one = await health_on(fresh_redis, tpm=1000)
    assert await one.admit("a", 900) is None
    assert await one.admit("a", 900, check=False) is None  # its first try was let by
    assert (await one.admit("a", 1)) is not None


async def test_a_breaker_opened_by_one_instance_stops_the_other(
    fresh_redis: str, health_on: Instance
) -> None:
    one, two = await health_on(fresh_redis, failures=2), await health_on(fresh_redis, failures=2)
    await one.settle("b", Verdict("fault"))
    await two.settle("b", Verdict("fault"))  # the second failure, counted across instances
    refused = await one.admit("b", 0)
    assert reason(refused) == "breaker"
    seen = two.blocked("b")  # its quick look knows it too, from the failure's reply
    assert reason(seen) == "breaker"


async def test_one_half_open_probe_across_instances(fresh_redis: str, health_on: Instance) -> None:
    one = await health_on(fresh_redis, failures=1, cooldown_s=0.2)
    two = await health_on(fresh_redis, failures=1, cooldown_s=0.2)
    await one.settle("b", Verdict("fault"))
    await asyncio.sleep(0.25)
    assert await two.admit("b", 0) is None  # the probe
    refused = await one.admit("b", 0)
    assert reason(refused) == "breaker"  # waits for that probe
    await two.settle("b", Verdict("answered"))
    await two.link.drain()  # a success's verdict is written in the background
    assert await one.admit("b", 0) is None  # the probe came back well: closed for all


async def test_a_failed_probe_reopens_for_everyone(fresh_redis: str, health_on: Instance) -> None:
    one = await health_on(fresh_redis, failures=1, cooldown_s=0.2)
    two = await health_on(fresh_redis, failures=1, cooldown_s=0.2)
    await one.settle("b", Verdict("fault"))
    await asyncio.sleep(0.25)
    assert await two.admit("b", 0) is None
    await two.settle("b", Verdict("fault"))
    refused = await one.admit("b", 0)
    assert reason(refused) == "breaker"


async def test_a_cancelled_probe_frees_it_for_another(
    fresh_redis: str, health_on: Instance
) -> None:
    one = await health_on(fresh_redis, failures=1, cooldown_s=0.2)
    two = await health_on(fresh_redis, failures=1, cooldown_s=0.2)
    await one.settle("b", Verdict("fault"))
    await asyncio.sleep(0.25)
    assert await two.admit("b", 0) is None
    two.release("b")
    await two.link.drain()
    assert await one.admit("b", 0) is None


async def test_a_retry_after_cools_the_deployment_down_everywhere(
    fresh_redis: str, health_on: Instance
) -> None:
    one, two = await health_on(fresh_redis), await health_on(fresh_redis)
    await one.settle("b", Verdict("throttled", retry_after_s=3))
    refused = await two.admit("b", 0)
    assert reason(refused) == "cooldown"
    assert refused is not None
    assert 2 < refused.wait_s <= 3


async def test_remaining_tokens_below_the_need_hold_every_instance_off(
    fresh_redis: str, health_on: Instance
) -> None:
    one, two = await health_on(fresh_redis, tpm=100_000), await health_on(fresh_redis)
    await one.settle("a", Verdict("succeeded", remaining_tokens=50, needed=900))
    await one.link.drain()  # a success's verdict is written in the background
    refused = await two.admit("a", 10)
    assert reason(refused) == "budget"


async def test_failures_among_successes_open_it_as_in_one_book(
    fresh_redis: str, health_on: Instance
) -> None:
    one, two = await health_on(fresh_redis, failures=3), await health_on(fresh_redis, failures=3)
    for index, kind in enumerate(("fault", "succeeded", "fault", "succeeded", "fault")):
        await (one, two)[index % 2].settle("b", Verdict(kind))  # type: ignore[arg-type]
        await one.link.drain()
        await two.link.drain()
    assert (await one.admit("b", 0)) is not None


async def test_a_healthy_deployments_success_is_not_written(
    fresh_redis: str, health_on: Instance
) -> None:
    one = await health_on(fresh_redis, failures=3)
    client = aioredis.from_url(fresh_redis)
    assert await one.admit("b", 0) is None
    before = (await client.info("commandstats")).get("cmdstat_evalsha", {}).get("calls", 0)
    await one.settle("b", Verdict("succeeded"))
    await one.link.drain()
    after = (await client.info("commandstats")).get("cmdstat_evalsha", {}).get("calls", 0)
    assert after == before  # one round trip for the request: its admission
    await one.settle("b", Verdict("fault"))  # now the breaker's memory holds a failure...
    assert await one.admit("b", 0) is None
    await one.settle("b", Verdict("succeeded"))  # ...which this success pushes along
    await one.link.drain()
    final = (await client.info("commandstats")).get("cmdstat_evalsha", {}).get("calls", 0)
    await client.aclose()
    assert final == after + 3


# ---- Redis down, slow, flushed, back ------------------------------------------------------


def shared_state_events(caplog: pytest.LogCaptureFixture, state: str) -> int:
    return sum(
        1
        for r in caplog.records
        if getattr(r, "router.event", None) == "shared_state"
        and getattr(r, "router.state", None) == state
    )


async def test_redis_stopped_goes_on_per_instance_logs_once_and_comes_back(
    own_redis: Any, health_on: Instance, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hybrid_router.ops")
    one, two = await health_on(own_redis.url, tpm=1000), await health_on(own_redis.url, tpm=1000)
    assert await one.admit("a", 600) is None
    own_redis.stop()
    # Each instance now answers from its own book: two can spend what one spent.
    assert await one.admit("a", 300) is None
    assert await two.admit("a", 900) is None
    assert await two.admit("a", 50) is None
    assert one.link.state == two.link.state == "per-instance"
    assert shared_state_events(caplog, "unavailable") == 2  # once per instance, not per call
    redis_server.restart(own_redis)
    for _ in range(300):
        if one.link.up and two.link.up:
            break
        await asyncio.sleep(0.02)
    assert shared_state_events(caplog, "restored") == 2
    # Shared again: what one spends, the other sees (the restarted Redis is empty).
    assert await one.admit("a", 900) is None
    refused = await two.admit("a", 200)
    assert reason(refused) == "budget"


async def test_a_slow_redis_is_not_waited_for_beyond_the_bound(
    own_redis: Any, health_on: Instance
) -> None:
    one = await health_on(own_redis.url, tpm=1000)
    one.link.timeout_s = 0.05
    pauser = aioredis.from_url(own_redis.url)
    await pauser.execute_command("CLIENT", "PAUSE", "1000", "ALL")
    try:
        # The bound passes, the request goes on with this instance's own book.
        assert await one.admit("a", 10) is None
        assert one.link.state == "per-instance"
        assert one.local.snapshot()["a"]["tokens_in_window"] == 10
    finally:
        await pauser.execute_command("CLIENT", "UNPAUSE")
        await pauser.aclose()


async def test_a_flushed_redis_starts_over_without_an_error(
    fresh_redis: str, health_on: Instance
) -> None:
    one = await health_on(fresh_redis, tpm=1000)
    assert await one.admit("a", 900) is None
    client = aioredis.from_url(fresh_redis)
    await client.flushall()
    await client.script_flush()  # the scripts too: they are loaded again
    await client.aclose()
    assert await one.admit("a", 900) is None  # the spent budget went with the data
    assert one.link.state == "redis"
