"""The Bicep and the router follow one rule for where a deployment is called, and every tier the
parameter files create reaches the emulator at the URL the router would build for it in Azure."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from infra_support import INFRA, PARAMETER_FILES, evaluate, main_bicep, router_tiers

from shared.settings import load_settings
from shared.upstream.urls import target, url_shape_for_format
from tests.conftest import EMULATOR_KEY, Emulator

FORMATS = ["OpenAI", "Microsoft", "Meta", "Mistral AI", "DeepSeek", "xAI"]
ids = [p.relative_to(INFRA).as_posix() for p in PARAMETER_FILES]


def bicep_tier(model_format: str) -> dict[str, object]:
    """main.bicep's tier object for one deployment entry of this format."""
    loop = main_bicep()["variables"]["primaryTiers"]["value"]
    entry = {
        "tier": "t", "deploymentName": "d", "modelFormat": model_format, "capacity": 3,
        "inputPricePer1M": 1, "outputPricePer1M": 1, "contextWindow": 1000,
        "capabilities": [], "reasoningEffort": "", "fallbacks": [],
    }  # fmt: skip
    env = {
        "modelDeployments": [entry],
        "foundryModelsTpm": 400000,
        "primaryOpenAiEndpoint": "https://acct.openai.azure.com",
        "primaryModelsEndpoint": "https://acct.services.ai.azure.com",
    }
    (tier,) = evaluate(loop, env)
    return tier


@pytest.mark.parametrize("model_format", FORMATS)
def test_bicep_and_settings_pick_the_same_route(model_format: str) -> None:
    tier = bicep_tier(model_format)
    assert tier["url_shape"] == url_shape_for_format(model_format)
    # The router, given only the account's OpenAI endpoint and the shape, lands on the same host.
    settings = load_settings(
        {
            "FOUNDRY_ENDPOINT": "https://acct.openai.azure.com",
            "FOUNDRY_API_KEY": "k",
            "ROUTER_TIERS": json.dumps(
                [
                    {"name": n, "deployment": "d", "url_shape": tier["url_shape"]}
                    for n in ("small", "large")
                ]
            ),
        }
    )
    assert settings.tier("small").endpoint == tier["endpoint"]


def azure_settings(path: Path) -> list[tuple[str, str, dict[str, str]]]:
    """(tier, URL in Azure, headers) for every tier the parameter file's ROUTER_TIERS names."""
    env = {"FOUNDRY_ENDPOINT": "https://ais-test.openai.azure.com", "ROUTER_AUTH_MODE": "entra"}
    env["ROUTER_TIERS"] = json.dumps(router_tiers(path))
    settings = load_settings(env)
    return [(t.name, target(t).url, target(t).headers) for t in settings.tiers]


@pytest.mark.parametrize("path", PARAMETER_FILES, ids=ids)
def test_every_tier_reaches_the_emulator_at_its_azure_url(path: Path, emulator: Emulator) -> None:
    base = urlsplit(emulator.url)
    tiers = {t["name"]: t for t in router_tiers(path)}
    for name, azure_url, headers in azure_settings(path):
        parts = urlsplit(azure_url)
        assert parts.scheme == "https"
        assert parts.hostname
        assert parts.hostname.startswith("ais-test")
        local = parts._replace(scheme=base.scheme, netloc=base.netloc).geturl()
        body = {
            "model": tiers[name]["deployment"],
            "messages": [{"role": "user", "content": "hi"}],
        }
        reply = httpx.post(local, json=body, headers={**headers, "api-key": EMULATOR_KEY})
        assert reply.status_code == 200, (name, azure_url, reply.text)
        assert reply.headers["x-ms-deployment-name"] == tiers[name]["deployment"]
