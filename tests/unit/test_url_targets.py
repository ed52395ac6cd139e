"""Each URL shape's URL and headers, as `target` builds them from the tier table (pure logic)."""

from __future__ import annotations

import json

import pytest

from shared.settings import ConfigError, Tier, load_settings
from shared.upstream.urls import target, url_shape_for_format


def tier_from(spec: dict[str, object], endpoint: str = "https://acct.openai.azure.com") -> Tier:
    env = {
        "FOUNDRY_ENDPOINT": endpoint,
        "FOUNDRY_API_KEY": "k",
        "ROUTER_TIERS": json.dumps([{"name": "small", **spec}, {"name": "large", **spec}]),
    }
    return load_settings(env).tier("small")


def test_v1_shape() -> None:
    where = target(tier_from({"deployment": "gpt-5", "url_shape": "v1"}))
    assert where.url == "https://acct.openai.azure.com/openai/v1/chat/completions"
    assert where.headers == {}


def test_deployments_shape_carries_the_api_version() -> None:
    where = target(tier_from({"deployment": "gpt-4o", "url_shape": "deployments"}))
    assert where.url == (
        "https://acct.openai.azure.com/openai/deployments/gpt-4o/chat/completions"
        "?api-version=2024-10-21"
    )


def test_models_shape_uses_the_inference_route_its_version_and_the_header() -> None:
    where = target(tier_from({"deployment": "Phi-4-mini", "url_shape": "models"}))
    assert where.url == (
        "https://acct.services.ai.azure.com/models/chat/completions?api-version=2024-05-01-preview"
    )
    assert where.headers == {"extra-parameters": "pass-through"}


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://acct.services.ai.azure.com",
        "https://acct.services.ai.azure.com/models",
        "https://acct.cognitiveservices.azure.com/",
        "https://acct.openai.azure.com/openai/v1",
    ],
)
def test_models_shape_finds_the_services_host_from_any_account_url(endpoint: str) -> None:
    tier = tier_from({"deployment": "Phi-4-mini", "url_shape": "models"}, endpoint)
    assert tier.endpoint == "https://acct.services.ai.azure.com"


def test_models_shape_keeps_a_local_endpoint() -> None:
    tier = tier_from({"deployment": "Phi-4-mini", "url_shape": "models"}, "http://127.0.0.1:7072")
    assert target(tier).url.startswith("http://127.0.0.1:7072/models/chat/completions?")


def test_models_shape_options_are_the_tiers() -> None:
    tier = tier_from(
        {
            "deployment": "Phi-4-mini",
            "url_shape": "models",
            "api_version": "2025-05-01",
            "extra_parameters": "drop",
        }
    )
    where = target(tier)
    assert where.url.endswith("?api-version=2025-05-01")
    assert where.headers == {"extra-parameters": "drop"}


def test_an_endpoint_that_names_the_models_route_picks_the_shape() -> None:
    tier = tier_from({"deployment": "Phi-4-mini"}, "https://acct.services.ai.azure.com/models")
    assert tier.url_shape == "models"


def test_url_shape_keeps_the_endpoint_as_given() -> None:
    url = "https://x.example/score/chat/completions?api-version=1"
    tier = tier_from({"deployment": "custom", "url_shape": "url", "endpoint": url})
    assert target(tier).url == url


def test_unknown_extra_parameters_value_is_refused() -> None:
    with pytest.raises(ConfigError, match="extra_parameters"):
        tier_from({"deployment": "Phi-4-mini", "url_shape": "models", "extra_parameters": "yes"})


@pytest.mark.parametrize(
    ("model_format", "shape"),
    [("OpenAI", "v1"), ("Microsoft", "models"), ("Meta", "models"), ("DeepSeek", "models")],
)
def test_url_shape_follows_the_model_format(model_format: str, shape: str) -> None:
    assert url_shape_for_format(model_format) == shape
