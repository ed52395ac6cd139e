"""Per-tier timeouts: a tier's own value, else the global setting, else its kind's default."""

from __future__ import annotations

import json

import pytest

from shared.settings import KIND_TIMEOUTS, ConfigError, load_settings

BASE = {"FOUNDRY_ENDPOINT": "https://acct.openai.azure.com", "FOUNDRY_API_KEY": "k"}
TIERS = [
    {"name": "small", "deployment": "Phi-4-mini", "fallbacks": ["large"]},
    {"name": "large", "deployment": "gpt-5", "capabilities": ["reasoning"]},
]


def test_defaults_come_from_the_tiers_kind() -> None:
    settings = load_settings({**BASE, "ROUTER_TIERS": json.dumps(TIERS)})
    small, large = settings.tier("small"), settings.tier("large")
    assert (small.kind, large.kind) == ("fast", "reasoning")
    assert small.attempt_limit_s == KIND_TIMEOUTS["fast"].attempt_s == 20
    assert small.first_token_limit_s == KIND_TIMEOUTS["fast"].first_token_s == 5
    assert large.attempt_limit_s == KIND_TIMEOUTS["reasoning"].attempt_s == 180
    assert large.first_token_limit_s == KIND_TIMEOUTS["reasoning"].first_token_s == 120
    # The whole request fits in Azure's 230 s front-end limit, the longest attempt in it.
    assert large.attempt_limit_s < settings.limits.request_timeout_s < 230


def test_a_global_setting_applies_to_tiers_without_their_own() -> None:
    tiers = [dict(TIERS[0], attempt_timeout_s=7.5), TIERS[1]]
    settings = load_settings(
        {
            **BASE,
            "ROUTER_TIERS": json.dumps(tiers),
            "ROUTER_ATTEMPT_TIMEOUT_S": "40",
            "ROUTER_FIRST_TOKEN_TIMEOUT_S": "3",
        }
    )
    assert settings.tier("small").attempt_limit_s == 7.5  # its own wins
    assert settings.tier("large").attempt_limit_s == 40
    assert settings.tier("small").first_token_limit_s == 3
    assert settings.tier("large").first_token_limit_s == 3


def test_health_shows_each_tiers_limits() -> None:
    settings = load_settings({**BASE, "ROUTER_TIERS": json.dumps(TIERS)})
    shown = {t["name"]: t for t in settings.summary()["tiers"]}  # type: ignore[attr-defined]
    assert shown["small"]["attempt_timeout_s"] == 20
    assert shown["large"]["first_token_timeout_s"] == 120


@pytest.mark.parametrize("value", [0, -1, "fast", True])
def test_a_bad_tier_timeout_names_the_tier(value: object) -> None:
    tiers = [dict(TIERS[0], first_token_timeout_s=value), TIERS[1]]
    with pytest.raises(ConfigError) as raised:
        load_settings({**BASE, "ROUTER_TIERS": json.dumps(tiers)})
    assert raised.value.setting == "ROUTER_TIERS"
    assert "small" in str(raised.value)


def test_a_bad_global_timeout_names_the_setting() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({**BASE, "ROUTER_ATTEMPT_TIMEOUT_S": "soon"})
    assert raised.value.setting == "ROUTER_ATTEMPT_TIMEOUT_S"


def test_a_body_timeout_is_read() -> None:
    assert load_settings({**BASE, "ROUTER_BODY_TIMEOUT_S": "2.5"}).limits.body_timeout_s == 2.5
    assert load_settings(BASE).limits.body_timeout_s == 30
