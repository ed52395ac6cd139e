"""Which tiers speak Responses, where the state goes, and the in-process store's bounds."""

from __future__ import annotations

import asyncio
import time

import pytest

from shared.responses.store import NO_HISTORY, BlobStore, MemoryStore, StoredResponse, make_store
from shared.settings import ConfigError, load_settings

BASE = {"FOUNDRY_ENDPOINT": "https://acct.openai.azure.com", "FOUNDRY_API_KEY": "k"}


def test_default_large_tier_speaks_responses_and_small_does_not() -> None:
    settings = load_settings(BASE)
    assert settings.tier("large").speaks_responses
    assert not settings.tier("small").speaks_responses


@pytest.mark.parametrize("apis", ['["responses"]', '["chat", "assistants"]', '"chat"'])
def test_bad_apis_stop_start_up_naming_the_setting(apis: str) -> None:
    tiers = f'[{{"name": "small", "deployment": "d", "apis": {apis}}}]'
    env = {**BASE, "ROUTER_TIERS": tiers, "ROUTER_LARGE_TIER": "small"}
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert caught.value.setting == "ROUTER_TIERS"


def test_state_goes_to_the_apps_blob_account_when_the_host_has_one() -> None:
    url = "https://st1.blob.core.windows.net"
    settings = load_settings({**BASE, "AzureWebJobsStorage__blobServiceUri": url})
    assert settings.responses.blob_url == url
    assert isinstance(make_store(settings), BlobStore)
    assert isinstance(make_store(load_settings(BASE)), MemoryStore)


def test_memory_store_forgets_expired_and_oldest() -> None:
    async def run() -> tuple[bool, bool, int]:
        store = MemoryStore(ttl_s=60, max_items=2)
        now = time.time()
        await store.put("resp_a", StoredResponse({}, [], "d", now - 1), NO_HISTORY)
        expired = await store.get("resp_a") is None
        for name in ("resp_b", "resp_c", "resp_d"):
            await store.put(name, StoredResponse({}, [], "d", now + 60), NO_HISTORY)
        oldest_gone = await store.get("resp_b") is None
        return expired, oldest_gone, len(store.items)

    assert asyncio.run(run()) == (True, True, 2)


def test_each_gateway_has_its_own_in_process_store() -> None:
    """Two app instances (or two tests' routers) never share stored responses in process."""
    from shared.gateway import Gateway

    async def run() -> tuple[bool, bool]:
        one, two = Gateway(load_settings(BASE)), Gateway(load_settings(BASE))
        record = StoredResponse({"id": "resp_a"}, [], "d", time.time() + 60)
        await one.responses_service.store.put("resp_a", record, NO_HISTORY)
        found = await one.responses_service.store.get("resp_a") == record
        elsewhere = await two.responses_service.store.get("resp_a") is None
        await one.aclose()
        await two.aclose()
        return found, elsewhere

    assert asyncio.run(run()) == (True, True)


def test_chain_cap_defaults_to_the_body_limit_and_stops_start_up_when_bad() -> None:
    assert load_settings(BASE).responses.max_chain_bytes == 4 * 1024 * 1024
    body = {**BASE, "ROUTER_MAX_BODY_BYTES": "8192"}
    assert load_settings(body).responses.max_chain_bytes == 8192  # follows the body limit
    own = {**body, "ROUTER_RESPONSES_MAX_CHAIN_BYTES": "65536"}
    assert load_settings(own).responses.max_chain_bytes == 65536
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, "ROUTER_RESPONSES_MAX_CHAIN_BYTES": "ten"})
    assert caught.value.setting == "ROUTER_RESPONSES_MAX_CHAIN_BYTES"
