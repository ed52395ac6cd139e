"""Keyless auth: the router's managed identity gets tokens from the emulator's identity endpoint."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.conftest import Emulator, StartRouter

IDENTITY_HEADER = "emulator-identity-header"
HI = {"model": "small", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def entra_router(start_router: StartRouter, emulator: Emulator) -> str:
    """A fresh router (fresh token cache) using a user-assigned managed identity."""
    return start_router(
        ROUTER_AUTH_MODE="entra",
        FOUNDRY_API_KEY="",
        AZURE_CLIENT_ID="00000000-0000-0000-0000-000000000001",
        IDENTITY_ENDPOINT=f"{emulator.url}/msi/token",
        IDENTITY_HEADER=IDENTITY_HEADER,
    )


def token_fetches(emulator: Emulator) -> int:
    return int(emulator.http.get("/control/stats").json()["token_fetches"])


async def test_one_token_fetch_serves_many_concurrent_requests(
    entra_router: str, emulator: Emulator
) -> None:
    before = token_fetches(emulator)
    async with httpx.AsyncClient(timeout=30) as client:
        replies = await asyncio.gather(
            *(client.post(f"{entra_router}/api/v1/chat/completions", json=HI) for _ in range(20))
        )
    assert [r.status_code for r in replies] == [200] * 20
    assert token_fetches(emulator) - before == 1
    recorded = emulator.requests()
    assert {r["auth"] for r in recorded} == {"bearer"}
    assert "authorization" not in str(replies[0].headers).lower()


def test_expiry_triggers_a_refresh(entra_router: str, emulator: Emulator) -> None:
    emulator.configure(token_lifetime_s=2)
    url = f"{entra_router}/api/v1/chat/completions"
    before = token_fetches(emulator)
    assert httpx.post(url, json=HI).status_code == 200
    assert token_fetches(emulator) - before == 1
    time.sleep(2.5)  # the token has expired; the emulator would answer 401 to it
    assert httpx.post(url, json=HI).status_code == 200
    assert token_fetches(emulator) - before == 2


def test_missing_role_becomes_502_naming_it(entra_router: str, emulator: Emulator) -> None:
    emulator.configure("Phi-4-mini", forbidden=True)
    emulator.configure("Phi-4", forbidden=True)
    reply = httpx.post(f"{entra_router}/api/v1/chat/completions", json=HI)
    assert reply.status_code == 502
    assert "Cognitive Services User" in reply.json()["error"]["message"]
    assert "Bearer" not in reply.text


def test_identity_endpoint_failure_is_a_clean_502(start_router: StartRouter) -> None:
    url = start_router(
        ROUTER_AUTH_MODE="entra",
        FOUNDRY_API_KEY="",
        AZURE_CLIENT_ID="00000000-0000-0000-0000-000000000001",
        IDENTITY_ENDPOINT="http://127.0.0.1:9/msi/token",
        IDENTITY_HEADER=IDENTITY_HEADER,
    )
    reply = httpx.post(f"{url}/api/v1/chat/completions", json=HI, timeout=60)
    assert reply.status_code == 502
    assert reply.json()["error"]["code"] == "upstream_auth_failed"
