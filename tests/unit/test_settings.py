import json

import pytest

from shared.settings import (
    BreakerPolicy,
    ConfigError,
    Limits,
    ResponsesStorage,
    RetryPolicy,
    RoutingSettings,
    load_settings,
)

BASE = {"FOUNDRY_ENDPOINT": "https://acct.openai.azure.com/", "FOUNDRY_API_KEY": "k"}


def test_defaults_are_three_tiers_a_small_one_taking_tools() -> None:
    settings = load_settings(BASE)
    assert [(t.name, t.deployment) for t in settings.tiers] == [
        ("small", "Phi-4-mini"),
        ("small-tools", "gpt-5-nano"),
        ("large", "gpt-5"),
    ]
    assert settings.tier("large").reasoning
    assert not settings.tier("small").reasoning
    tools = settings.tier("small-tools")
    assert {"tools", "json_schema"} <= tools.capabilities
    assert tools.reasoning_effort == "minimal"
    assert tools.url_shape == "v1"
    assert tools.speaks_responses
    # the price ladder eligibility walks up: a tool turn decided small stops at small-tools
    prices = [t.input_price_per_1m + t.output_price_per_1m for t in settings.tiers]
    assert prices == sorted(prices)
    assert settings.routing.classifier_tier == "small"
    assert settings.routing.default_tier == "large"
    # Phi-4-mini is a Foundry Model: the models route, on the account's services.ai.azure.com host.
    assert settings.tier("small").url_shape == "models"
    assert settings.tier("small").endpoint == "https://acct.services.ai.azure.com"
    assert settings.tier("large").url_shape == "v1"
    assert settings.tier("large").endpoint == "https://acct.openai.azure.com"
    assert settings.auth.mode == "key"


def test_shortcut_endpoints_per_model() -> None:
    settings = load_settings(
        {
            "PHI4_MINI_ENDPOINT": "https://phi.services.ai.azure.com/openai/v1",
            "GPT5_ENDPOINT": "https://gpt.openai.azure.com/openai/v1/chat/completions",
            "FOUNDRY_API_KEY": "k",
        }
    )
    assert settings.tier("small").endpoint == "https://phi.services.ai.azure.com"
    assert settings.tier("small").url_shape == "v1"
    assert settings.tier("large").url_shape == "url"
    # gpt-5-nano, an OpenAI model too, on GPT-5's account unless it has an endpoint of its own
    assert settings.tier("small-tools").endpoint == "https://gpt.openai.azure.com"
    assert settings.tier("small-tools").url_shape == "v1"
    nano = load_settings({**BASE, "GPT5_NANO_ENDPOINT": "https://nano.openai.azure.com"})
    assert nano.tier("small-tools").endpoint == "https://nano.openai.azure.com"


def test_a_tier_reasoning_effort_must_be_one_azure_takes() -> None:
    tiers = [{"name": "large", "deployment": "gpt-5-nano", "reasoning_effort": "tiny"}]
    with pytest.raises(ConfigError, match="reasoning_effort"):
        load_settings({**BASE, "ROUTER_TIERS": json.dumps(tiers), "ROUTER_SMALL_TIER": "large"})
    tiers[0]["reasoning_effort"] = ""  # infra/main.bicep's "the model's own default"
    settings = load_settings(
        {**BASE, "ROUTER_TIERS": json.dumps(tiers), "ROUTER_SMALL_TIER": "large"}
    )
    assert settings.tier("large").reasoning_effort is None


def test_no_key_means_entra() -> None:
    settings = load_settings({"FOUNDRY_ENDPOINT": "https://a.openai.azure.com"})
    assert settings.auth.mode == "entra"
    assert "sekrit" not in repr(load_settings({**BASE, "FOUNDRY_API_KEY": "sekrit"}))


def test_tier_table_from_json() -> None:
    tiers = [
        {"name": "mini", "deployment": "Phi-4-mini", "tpm": 100000, "fallbacks": ["big"]},
        {"name": "big", "deployment": "gpt-4o", "url_shape": "deployments", "api_version": "x"},
    ]
    settings = load_settings(
        {
            **BASE,
            "ROUTER_TIERS": json.dumps(tiers),
            "ROUTER_SMALL_TIER": "mini",
            "ROUTER_LARGE_TIER": "big",
        }
    )
    assert settings.tier("mini").tpm == 100000
    assert settings.tier("mini").fallbacks == ("big",)
    assert settings.routing.classifier_tier == "mini"
    assert settings.routing.default_tier == "big"
    assert settings.find_pin("gpt-4o") is settings.tier("big")
    assert settings.find_pin("nope") is None


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({}, "FOUNDRY_ENDPOINT"),
        ({"FOUNDRY_ENDPOINT": "https://a", "ROUTER_AUTH_MODE": "key"}, "FOUNDRY_API_KEY"),
        ({**BASE, "ROUTER_AUTH_MODE": "magic"}, "ROUTER_AUTH_MODE"),
        ({**BASE, "ROUTER_TIERS": "[{"}, "ROUTER_TIERS"),
        ({**BASE, "ROUTER_TIERS": "[]"}, "ROUTER_TIERS"),
        ({**BASE, "ROUTER_TIERS": '[{"name": "a"}]'}, "ROUTER_TIERS"),
        (
            {**BASE, "ROUTER_TIERS": '[{"name": "a", "deployment": "d", "colour": 1}]'},
            "ROUTER_TIERS",
        ),
        ({**BASE, "ROUTER_TIERS": '[{"name": "a", "deployment": "d", "tpm": -1}]'}, "ROUTER_TIERS"),
        ({**BASE, "ROUTER_SMALL_TIER": "tiny"}, "ROUTER_SMALL_TIER"),
        ({**BASE, "ROUTER_PRESET": "cheapest"}, "ROUTER_PRESET"),
        ({**BASE, "ROUTER_CLASSIFIER_TIMEOUT_MS": "soon"}, "ROUTER_CLASSIFIER_TIMEOUT_MS"),
        ({**BASE, "ROUTER_MAX_BODY_BYTES": "10"}, "ROUTER_MAX_BODY_BYTES"),
        ({"FOUNDRY_ENDPOINT": "ftp://x", "FOUNDRY_API_KEY": "k"}, "ROUTER_TIERS"),
    ],
)
def test_bad_configuration_names_the_setting(env: dict[str, str], setting: str) -> None:
    with pytest.raises(ConfigError) as failure:
        load_settings(env)
    assert failure.value.setting == setting
    assert str(failure.value).startswith(setting)


def test_summary_has_no_secrets() -> None:
    summary = json.dumps(load_settings({**BASE, "FOUNDRY_API_KEY": "sekrit-123"}).summary())
    assert "sekrit-123" not in summary
    assert "acct.openai.azure.com" in summary


def test_unset_settings_are_their_groups_declared_defaults() -> None:
    settings = load_settings(BASE)
    assert settings.retry == RetryPolicy() == RetryPolicy(3, 1.0, 8.0, 10.0)
    assert settings.breaker == BreakerPolicy() == BreakerPolicy(5, 30.0)
    assert settings.limits == Limits()
    assert settings.classifier.timeout_s == 1.0  # ROUTER_CLASSIFIER_TIMEOUT_MS=1000


def test_a_setting_read_in_its_own_unit() -> None:
    settings = load_settings({**BASE, "ROUTER_CLASSIFIER_TIMEOUT_MS": "250"})
    assert settings.classifier.timeout_s == 0.25


def test_tier_settings_follow_the_small_and_large_tiers() -> None:
    tiers = [{"name": "a", "deployment": "d"}, {"name": "b", "deployment": "e"}]
    env = {**BASE, "ROUTER_TIERS": json.dumps(tiers)}
    settings = load_settings({**env, "ROUTER_SMALL_TIER": "b", "ROUTER_LARGE_TIER": "a"})
    assert (settings.routing.classifier_tier, settings.routing.default_tier) == ("b", "a")


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_whole_number_setting_refuses_what_is_no_whole_number(value: str) -> None:
    with pytest.raises(ConfigError) as failure:
        load_settings({**BASE, "ROUTER_MAX_ATTEMPTS": value})
    assert failure.value.setting == "ROUTER_MAX_ATTEMPTS"


@pytest.mark.parametrize("name", ["ROUTER_REQUEST_TIMEOUT_S", "ROUTER_BACKOFF_BASE_S"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_number_setting_refuses_what_is_not_finite(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as failure:
        load_settings({**BASE, name: value})
    assert failure.value.setting == name
    assert "finite" in str(failure.value)


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ({"deployment": "d", "colour": 1}, "colour"),
        ({"deployment": "d", "tpm": -1}, "tpm"),
        ({"deployment": "d", "input_price_per_1m": None}, "input_price_per_1m"),
        ({"deployment": "d", "endpoint": 5}, "endpoint"),
        ({"deployment": " "}, "deployment"),
    ],
)
def test_a_bad_tier_entry_names_the_setting_the_tier_and_the_key(
    entry: dict[str, object], named: str
) -> None:
    with pytest.raises(ConfigError) as failure:
        load_settings({**BASE, "ROUTER_TIERS": json.dumps([{"name": "mini", **entry}])})
    assert str(failure.value).startswith("ROUTER_TIERS: tier 'mini': " + named)


def test_a_following_settings_default_is_the_followed_ones() -> None:
    routing = RoutingSettings()
    assert (routing.classifier_tier, routing.default_tier) == (
        routing.small_tier,
        routing.large_tier,
    )
    assert ResponsesStorage().max_chain_bytes == Limits().max_body_bytes
