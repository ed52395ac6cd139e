"""A fallback that lacks what the request needs is never called: a tools request whose tier
fails does not fail over to a tier without tools (eligibility holds down the chain too)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import WEATHER_TOOL, Emulator, StartRouter

TIERS = [
    # large falls back to small, which declares no tools (Phi-4-mini on Foundry takes none)
    {"name": "small", "deployment": "Phi-4-mini", "input_price_per_1m": 0.075},
    {
        "name": "large",
        "deployment": "gpt-5",
        "input_price_per_1m": 1.25,
        "context_window": 400_000,
        "capabilities": ["reasoning", "tools"],
        "fallbacks": ["small"],
    },
]


@pytest.fixture(scope="module")
def router_api(start_module_router: StartRouter) -> str:
    return start_module_router(ROUTER_TIERS=json.dumps(TIERS), ROUTER_MAX_ATTEMPTS="1") + "/api"


def ask(router_api: str, **extra: object) -> httpx.Response:
    body = {"model": "auto", "messages": [{"role": "user", "content": "Weather in Paris?"}]}
    return httpx.post(f"{router_api}/v1/chat/completions", json={**body, **extra}, timeout=30)


def test_a_tools_request_does_not_fail_over_to_a_tier_without_tools(
    router_api: str, emulator: Emulator
) -> None:
    emulator.fault("gpt-5", "unavailable", times=None)
    reply = ask(router_api, tools=[WEATHER_TOOL])
    assert reply.status_code >= 500, reply.text
    assert reply.json()["error"]["type"] == "api_error"
    assert emulator.requests("gpt-5")
    assert emulator.requests("Phi-4-mini") == []


def test_a_request_without_tools_still_fails_over(router_api: str, emulator: Emulator) -> None:
    emulator.fault("gpt-5", "unavailable", times=None)
    reply = ask(router_api, model="large")
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-router-tier"] == "small"
    assert "failover large->small" in reply.headers["x-router-adjusted"]


def test_a_builtin_tool_does_not_fail_over_to_a_chat_only_tier(
    start_router: StartRouter, emulator: Emulator
) -> None:
    responses_large = {
        **TIERS[1],
        "apis": ["chat", "responses"],
        "capabilities": ["reasoning", "tools", "web_search"],
    }
    api = start_router(
        ROUTER_TIERS=json.dumps([TIERS[0], responses_large]), ROUTER_MAX_ATTEMPTS="1"
    )
    emulator.fault("gpt-5", "unavailable", times=None)
    reply = httpx.post(
        f"{api}/api/v1/responses",
        json={"model": "auto", "input": "News today?", "tools": [{"type": "web_search"}]},
        timeout=30,
    )
    assert reply.status_code >= 500, reply.text
    assert emulator.requests("gpt-5")
    assert emulator.requests("Phi-4-mini") == []
