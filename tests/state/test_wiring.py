"""Which state the router builds from its settings: its own, or Redis's (without connecting)."""

from __future__ import annotations

import pytest

from shared.routing.cache import TtlCache
from shared.settings import ConfigError, load_settings
from shared.state.health import SharedHealth
from shared.state.memory import SharedMemory
from shared.state.wiring import make_state
from shared.upstream.health import HealthBook

BASE = {"FOUNDRY_ENDPOINT": "https://acct.openai.azure.com", "FOUNDRY_API_KEY": "k"}


def test_without_a_url_each_instance_keeps_its_own() -> None:
    state = make_state(load_settings(BASE))
    assert isinstance(state.health, HealthBook)
    assert isinstance(state.sessions, TtlCache)
    assert isinstance(state.verdicts, TtlCache)
    assert state.mode == "per-instance"


def test_with_a_url_state_is_shared_and_not_yet_connected() -> None:
    state = make_state(load_settings({**BASE, "ROUTER_REDIS_URL": "redis://127.0.0.1:1"}))
    assert isinstance(state.health, SharedHealth)
    assert isinstance(state.sessions, SharedMemory)
    assert isinstance(state.verdicts, SharedMemory)
    assert state.mode == "connecting"  # no request waits for the first connection
    options = state.link.client.connection_pool.connection_kwargs  # type: ignore[union-attr]
    assert "credential_provider" not in options


def test_in_azure_the_managed_identity_signs_in_no_password() -> None:
    from redis_entraid.cred_provider import EntraIdCredentialsProvider

    settings = load_settings(
        {
            **BASE,
            "ROUTER_REDIS_URL": "rediss://redis-x.eastus2.redis.azure.net:10000",
            "AZURE_CLIENT_ID": "00000000-0000-0000-0000-000000000001",
        }
    )
    state = make_state(settings)
    options = state.link.client.connection_pool.connection_kwargs  # type: ignore[union-attr]
    assert isinstance(options["credential_provider"], EntraIdCredentialsProvider)
    assert options.get("password") is None


def test_a_url_that_is_not_redis_stops_start_up_naming_the_setting() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({**BASE, "ROUTER_REDIS_URL": "https://redis.example"})
    assert raised.value.setting == "ROUTER_REDIS_URL"
