"""Several router processes (instances of the app) sharing one real redis-server, on loopback:
a session's turns on different instances, a breaker one instance opened, one token budget, and
Redis stopped in the middle of the traffic."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
import redis

from devtools import redis as redis_server
from tests.conftest import Emulator, StartRouter, printed
from tests.e2e.test_resilience import FAST, TIERS


def wait_for_state(url: str, wanted: str = "redis") -> None:
    """Until the router's background connection reports `wanted` (no request waits for it)."""
    states = []
    for _ in range(300):
        states.append(httpx.get(f"{url}/api/health/details").json()["shared_state"])
        if states[-1] == wanted:
            return
        time.sleep(0.05)
    raise AssertionError(f"{url} never reached {wanted}: {states[-3:]}")


@pytest.fixture
def shared_url(redis_server: Any) -> str:
    """The suite's redis-server, emptied: each test's instances start from nothing shared."""
    with redis.Redis.from_url(redis_server.url) as client:
        client.flushall()
    return str(redis_server.url)


def instances(
    start_router: StartRouter, url: str, count: int = 2, wait: bool = True, **settings: str
) -> list[str]:
    routers = [start_router(ROUTER_REDIS_URL=url, **settings) for _ in range(count)]
    for router in routers if wait else ():
        wait_for_state(router)
    return routers


def route(url: str, text: str, session: str) -> dict[str, Any]:
    body = {"model": "auto", "messages": [{"role": "user", "content": text}]}
    reply = httpx.post(f"{url}/api/route", json=body, headers={"x-router-session": session})
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def test_a_sessions_turns_alternating_across_instances_stay_escalated(
    start_router: StartRouter, shared_url: str
) -> None:
    # Their very first requests: an instance's first connection is waited for (briefly).
    one, two = instances(start_router, shared_url, wait=False)
    session = "conversation-across-instances"
    assert route(one, "thanks!", session)["tier"] == "small"
    hard = "Write a Python function that merges two sorted lists, with tests"
    assert route(two, hard, session)["tier"] == "large"
    for url in (one, two, one):
        follow_up = route(url, "thanks!", session)
        assert (follow_up["tier"], follow_up["decided_by"]) == ("large", "session")


def post(url: str, **extra: Any) -> httpx.Response:
    body = {"model": "small", "messages": [{"role": "user", "content": "hi"}], **extra}
    return httpx.post(f"{url}/api/v1/chat/completions", json=body, timeout=30)


def test_a_breaker_opened_by_one_instance_is_seen_by_the_others(
    start_router: StartRouter, shared_url: str, emulator: Emulator
) -> None:
    settings = {**FAST, "ROUTER_MAX_ATTEMPTS": "1", "ROUTER_BREAKER_FAILURES": "2"}
    one, two, three = instances(start_router, shared_url, 3, **settings)
    emulator.fault("Phi-4-mini", "unavailable", times=None)
    for _ in range(2):
        assert post(one).json()["model"] == "Phi-4"  # failed over; two failures open it
    called = len(emulator.requests("Phi-4-mini"))
    assert called == 2
    for url in (two, three):
        reply = post(url)
        assert reply.status_code == 200
        assert reply.json()["model"] == "Phi-4"
    # The others never called the broken deployment: the breaker was already open for them.
    assert len(emulator.requests("Phi-4-mini")) == called


def test_one_token_budget_for_every_instance(
    start_router: StartRouter, shared_url: str, emulator: Emulator
) -> None:
    tiers = [dict(TIERS[0], tpm=3000), *TIERS[1:]]
    emulator.configure("Phi-4-mini", tpm=3000)
    one, two = instances(start_router, shared_url, ROUTER_TIERS=json.dumps(tiers))
    models = [post((one, two)[i % 2], max_tokens=900).json()["model"] for i in range(5)]
    # Three requests of ~910 tokens fit in 3,000 a minute, whichever instance sent them; per
    # instance, each would have sent three and Foundry answered the fourth with a 429.
    assert models == ["Phi-4-mini"] * 3 + ["Phi-4"] * 2
    assert all(c["status"] == 200 for c in emulator.requests())


def test_redis_stopped_mid_run_costs_no_request(
    start_router: StartRouter,
    own_redis: Any,
    emulator: Emulator,
    router_output: dict[str, list[str]],
) -> None:
    one, two = instances(start_router, own_redis.url)
    statuses = []
    for index in range(30):
        if index == 10:
            own_redis.stop()
        if index == 20:
            redis_server.restart(own_redis)
        statuses.append(post((one, two)[index % 2]).status_code)
    assert statuses == [200] * 30
    for url in (one, two):
        wait_for_state(url, "redis")  # back on shared state, by itself
        lines = printed(router_output[url], "shared_state state=unavailable")
        assert sum("state=unavailable" in line for line in lines) == 1, lines
    # Shared again: a session escalated on one instance is large on the other.
    session = "after-the-outage"
    assert (
        route(one, "Plan a three-step migration to Postgres, with rollback", session)["tier"]
        == "large"
    )
    assert route(two, "thanks!", session)["decided_by"] == "session"
