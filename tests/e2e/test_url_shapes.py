"""Every URL shape over real HTTP, through the router to the emulator, with api-key and Entra."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Emulator, StartRouter

IDENTITY_HEADER = "emulator-identity-header"


def tiers(emulator_url: str, models_extra: str = "pass-through") -> str:
    """One tier per URL shape, all on the emulator."""
    return json.dumps(
        [
            {"name": "via-v1", "deployment": "gpt-4o", "url_shape": "v1"},
            {"name": "via-deployments", "deployment": "gpt-4o", "url_shape": "deployments"},
            {
                "name": "via-models",
                "deployment": "Phi-4-mini",
                "url_shape": "models",
                "extra_parameters": models_extra,
            },
            {
                "name": "via-url",
                "deployment": "Phi-4",
                "url_shape": "url",
                "endpoint": f"{emulator_url}/openai/deployments/Phi-4/chat/completions"
                "?api-version=2024-10-21",
            },
        ]
    )


def start(start_router: StartRouter, emulator: Emulator, auth: str, **extra: str) -> str:
    settings = {
        "ROUTER_TIERS": tiers(emulator.url, **extra),
        "ROUTER_SMALL_TIER": "via-models",
        "ROUTER_LARGE_TIER": "via-v1",
    }
    if auth == "entra":
        settings |= {
            "ROUTER_AUTH_MODE": "entra",
            "FOUNDRY_API_KEY": "",
            "AZURE_CLIENT_ID": "00000000-0000-0000-0000-000000000001",
            "IDENTITY_ENDPOINT": f"{emulator.url}/msi/token",
            "IDENTITY_HEADER": IDENTITY_HEADER,
        }
    return start_router(**settings)


@pytest.fixture(scope="module", params=["key", "entra"])
def auth_router(
    request: pytest.FixtureRequest, start_module_router: StartRouter, emulator: Emulator
) -> tuple[str, str]:
    return request.param, start(start_module_router, emulator, request.param)


EXPECTED = {
    "via-v1": ("gpt-4o", "/openai/v1/chat/completions", {}),
    "via-deployments": (
        "gpt-4o",
        "/openai/deployments/gpt-4o/chat/completions",
        {"api-version": "2024-10-21"},
    ),
    "via-models": ("Phi-4-mini", "/models/chat/completions", {"api-version": "2024-05-01-preview"}),
    "via-url": (
        "Phi-4",
        "/openai/deployments/Phi-4/chat/completions",
        {"api-version": "2024-10-21"},
    ),
}


def ask(url: str, tier: str, stream: bool = False, **body: Any) -> httpx.Response:
    payload = {"model": tier, "messages": [{"role": "user", "content": "hi"}], **body}
    if stream:
        payload["stream"] = True
    return httpx.post(f"{url}/api/v1/chat/completions", json=payload, timeout=30)


@pytest.mark.parametrize("tier", list(EXPECTED))
@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_each_shape_reaches_its_route(
    auth_router: tuple[str, str], emulator: Emulator, tier: str, stream: bool
) -> None:
    auth, url = auth_router
    deployment, path, query = EXPECTED[tier]
    reply = ask(url, tier, stream)
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-router-deployment"] == deployment
    if stream:
        assert reply.text.rstrip().endswith("data: [DONE]")
    (sent,) = emulator.requests(deployment)
    assert (sent["path"], sent["query"]) == (path, query)
    assert sent["auth"] == ("api-key" if auth == "key" else "bearer")
    models_header = sent["headers"].get("extra-parameters")
    assert models_header == ("pass-through" if tier == "via-models" else None)


def test_a_field_the_models_route_rejects_passes_with_the_header(
    start_router: StartRouter, emulator: Emulator
) -> None:
    strict = start(start_router, emulator, "key", models_extra="error")
    refused = ask(strict, "via-models", user="alice")
    assert refused.status_code == 400, refused.text
    assert "extra-parameters" in refused.json()["error"]["message"]
    emulator.reset()
    passing = start(start_router, emulator, "key")
    answered = ask(passing, "via-models", user="alice")
    assert answered.status_code == 200, answered.text
    (sent,) = emulator.requests("Phi-4-mini")
    assert sent["body"]["user"] == "alice"
    assert sent["headers"]["extra-parameters"] == "pass-through"
