"""Responses state in Azurite (the real Azure Storage emulator): two router processes share it,
the second continues what the first stored; expiry; nothing stored when store is false."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import openai
import pytest

from shared.responses.store import NO_HISTORY, BlobStore, StoredResponse, make_store
from shared.settings import load_settings
from tests.conftest import StartRouter


@pytest.fixture(scope="module")
def two_routers(
    start_module_router: StartRouter, azurite: str
) -> tuple[openai.OpenAI, openai.OpenAI]:
    clients = []
    for _ in range(2):
        url = start_module_router(ROUTER_RESPONSES_CONNECTION_STRING=azurite)
        clients.append(openai.OpenAI(base_url=f"{url}/api/v1", api_key="unused", max_retries=0))
    return clients[0], clients[1]


def test_second_instance_continues_what_the_first_stored_across_tiers(
    two_routers: tuple[openai.OpenAI, openai.OpenAI],
) -> None:
    one, two = two_routers
    first = one.responses.create(model="small", input="My name is Ada.")
    second = two.responses.create(
        model="large", input="What is my name?", previous_response_id=first.id
    )
    third = one.responses.create(model="small", input="Thanks.", previous_response_id=second.id)
    assert (first.model, second.model, third.model) == ("Phi-4-mini", "gpt-5", "Phi-4-mini")
    assert two.responses.retrieve(third.id).output_text == third.output_text
    two.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        one.responses.retrieve(first.id)


def test_streamed_turn_is_stored_for_the_other_instance(
    two_routers: tuple[openai.OpenAI, openai.OpenAI],
) -> None:
    one, two = two_routers
    with one.responses.stream(model="small", input="hi") as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    assert two.responses.retrieve(final.id).output_text == final.output_text


def test_store_false_writes_nothing(two_routers: tuple[openai.OpenAI, openai.OpenAI]) -> None:
    one, two = two_routers
    reply = one.responses.create(model="small", input="hi", store=False)
    with pytest.raises(openai.NotFoundError):
        two.responses.retrieve(reply.id)


def test_blob_store_expires_and_deletes(azurite: str) -> None:
    settings = load_settings(
        {
            "FOUNDRY_ENDPOINT": "http://127.0.0.1:9",
            "FOUNDRY_API_KEY": "k",
            "ROUTER_RESPONSES_CONNECTION_STRING": azurite,
            "ROUTER_RESPONSES_CONTAINER": "expiry-test",
        }
    )

    async def run() -> tuple[bool, bool, bool, bool]:
        store = make_store(settings)
        assert isinstance(store, BlobStore)
        live = StoredResponse({"id": "resp_live"}, [], "gpt-5", time.time() + 60)
        old = StoredResponse({"id": "resp_old"}, [], "gpt-5", time.time() - 1)
        await store.put("resp_live", live, NO_HISTORY)
        await store.put("resp_old", old, NO_HISTORY)
        found = await store.get("resp_live") == live
        expired = await store.get("resp_old") is None
        gone = not await store.delete("resp_old")  # the expired read deleted it already
        outside = await store.get("../etc") is None  # never a blob name the router didn't make
        await store.aclose()
        return found, expired, gone, outside

    assert asyncio.run(run()) == (True, True, True, True)


def test_prompt_text_is_never_logged(emulator: Any, azurite: str) -> None:
    from devtools.process import start_server

    env = {
        "FOUNDRY_ENDPOINT": emulator.url,
        "FOUNDRY_API_KEY": "emulator-key",
        "ROUTER_RESPONSES_CONNECTION_STRING": azurite,
    }
    server = start_server(["-m", "devtools.localhost", "--port", "0"], env=env)
    secret = "zebra-quartz-4471"
    try:
        client = openai.OpenAI(base_url=f"{server.url}/api/v1", api_key="unused", max_retries=0)
        first = client.responses.create(model="small", input=f"My code is {secret}.")
        client.responses.create(model="large", input="And?", previous_response_id=first.id)
        with client.responses.stream(model="small", input=f"Again {secret}") as stream:
            for _ in stream:
                pass
        bad = httpx.post(
            f"{server.url}/api/v1/responses",
            json={"model": "auto", "input": [{"type": "bogus", "text": secret}]},
        )
        assert bad.status_code == 400
    finally:
        server.stop()
    assert server.output  # it did log (start-up, requests): just never the prompt
    assert not [line for line in server.output if secret in line]
