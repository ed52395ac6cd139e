"""A long previous_response_id chain in blob storage (Azurite): each turn's items are written
once (the stored bytes grow with the conversation, not with its square), a second answer to the
same response forks a log of its own, blobs written in the first layout still read, and one
conversation's size is capped with OpenAI's context_length_exceeded, never cut."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import openai
import orjson
import pytest

from shared.responses.store import NO_HISTORY, BlobStore, StoredResponse, encode_items, make_store
from shared.settings import load_settings
from tests.conftest import Emulator, StartRouter

TURNS = 30


def _settings(azurite: str, container: str) -> Any:
    return load_settings(
        {
            "FOUNDRY_ENDPOINT": "http://127.0.0.1:9",
            "FOUNDRY_API_KEY": "k",
            "ROUTER_RESPONSES_CONNECTION_STRING": azurite,
            "ROUTER_RESPONSES_CONTAINER": container,
            "ROUTER_RESPONSES_INLINE_BYTES": "0",  # every conversation in a log
        }
    )


async def _stored_bytes(azurite: str, container: str) -> dict[str, int]:
    from azure.storage.blob.aio import BlobServiceClient

    async with BlobServiceClient.from_connection_string(azurite) as service:
        client = service.get_container_client(container)
        return {blob.name: blob.size async for blob in client.list_blobs()}


def test_a_long_chain_stores_each_turn_once(
    start_router: StartRouter, azurite: str, emulator: Emulator
) -> None:
    container = f"chain-{uuid.uuid4().hex[:12]}"
    url = start_router(
        ROUTER_RESPONSES_CONNECTION_STRING=azurite,
        ROUTER_RESPONSES_CONTAINER=container,
        ROUTER_RESPONSES_INLINE_BYTES="0",  # the log from the first turn
    )
    sdk = openai.OpenAI(base_url=f"{url}/api/v1", api_key="unused", max_retries=0)
    previous = None
    halfway = 0
    for turn in range(TURNS):
        reply = sdk.responses.create(
            model="small", input=f"turn {turn}: " + "x" * 200, previous_response_id=previous
        )
        previous = reply.id
        if turn == TURNS // 2 - 1:
            halfway = sum(asyncio.run(_stored_bytes(azurite, container)).values())
    # The last turn was sent the whole conversation: every ask and answer before it.
    sent = emulator.requests("Phi-4-mini")[-1]["body"]["messages"]
    assert len(sent) == 2 * TURNS - 1
    assert sent[0]["content"].startswith("turn 0:")
    blobs = asyncio.run(_stored_bytes(azurite, container))
    # Twice the turns, about twice the bytes (2.0 here; the whole conversation in every
    # response's blob, the first layout, stores 3.6 times as much, measured).
    assert sum(blobs.values()) / halfway < 2.5
    logs = {name: size for name, size in blobs.items() if name.startswith("logs/")}
    assert len(logs) == 1  # one conversation, one log
    # A response's blob and its index blob are small beside the log: ~2.7x the conversation.
    assert sum(blobs.values()) < 4 * next(iter(logs.values()))
    listed = list(sdk.responses.input_items.list(previous, order="asc", limit=100))
    assert len(listed) == 2 * TURNS - 1


def test_a_short_conversation_stays_whole_in_its_blob_and_moves_to_a_log_when_it_grows(
    start_router: StartRouter, azurite: str, emulator: Emulator
) -> None:
    container = f"inline-{uuid.uuid4().hex[:12]}"
    url = start_router(
        ROUTER_RESPONSES_CONNECTION_STRING=azurite,
        ROUTER_RESPONSES_CONTAINER=container,
        ROUTER_RESPONSES_INLINE_BYTES="4096",
    )
    sdk = openai.OpenAI(base_url=f"{url}/api/v1", api_key="unused", max_retries=0)
    first = sdk.responses.create(model="small", input="x" * 1000)
    assert not [n for n in asyncio.run(_stored_bytes(azurite, container)) if "logs/" in n]
    previous = first.id
    for turn in range(6):  # past 4 kB within a few turns
        previous = sdk.responses.create(
            model="small", input=f"turn {turn}: " + "y" * 1000, previous_response_id=previous
        ).id
    logs = [n for n in asyncio.run(_stored_bytes(azurite, container)) if n.startswith("logs/")]
    assert len(logs) == 1
    sent = emulator.requests("Phi-4-mini")[-1]["body"]["messages"]
    assert len(sent) == 13  # the whole conversation across the move
    assert sent[0]["content"] == "x" * 1000
    assert sdk.responses.retrieve(first.id).id == first.id  # the inline ones still read


def test_a_second_answer_to_the_same_response_forks_its_own_log(azurite: str) -> None:
    def turn(n: int) -> tuple[list[dict[str, Any]], list[str]]:
        return [{"type": "message", "role": "user", "content": f"ask {n}"}], [f"msg_{n}"]

    async def run() -> tuple[list[str], list[str], list[str], set[str]]:
        container = f"fork-{uuid.uuid4().hex[:12]}"
        store = make_store(_settings(azurite, container))
        assert isinstance(store, BlobStore)
        later = time.time() + 60

        async def put(name: str, parent: StoredResponse, n: int) -> StoredResponse:
            items, ids = turn(n)
            record = StoredResponse(
                {"id": name, "output": []},
                parent.context + items,
                "d",
                later,
                parent.ids + ids,
                parent.size + len(encode_items(items, ids)),
            )
            await store.put(name, record, parent)
            got = await store.get(name)
            assert got is not None
            return got

        root = await put("resp_root", NO_HISTORY, 0)
        first = await put("resp_first", root, 1)
        second = await put("resp_second", root, 2)  # root's log has moved on: a fork
        again = await store.get("resp_first")
        assert again is not None
        logs = {n for n in await _stored_bytes(azurite, container) if n.startswith("logs/")}
        await store.aclose()
        return first.ids, second.ids, again.ids, logs

    first, second, again, logs = asyncio.run(run())
    assert first == ["msg_0", "msg_1"]
    assert second == ["msg_0", "msg_2"]
    assert again == first  # the fork did not touch the first branch
    assert logs == {"logs/resp_root", "logs/resp_second"}


def test_a_blob_in_the_first_layout_is_read_and_continued(azurite: str) -> None:
    async def run() -> tuple[list[str], list[str]]:
        container = f"old-{uuid.uuid4().hex[:12]}"
        store = make_store(_settings(azurite, container))
        assert isinstance(store, BlobStore)
        await store.container.create_container()
        item = {"id": "msg_old", "type": "message", "role": "user", "content": "hi"}
        old = {"response": {"id": "resp_old", "output": []}, "context": [item]}
        old |= {"deployment": "d", "expires_at": time.time() + 60}
        await store.container.upload_blob("resp_old", orjson.dumps(old))
        parent = await store.get("resp_old")
        assert parent is not None
        new = {"type": "message", "role": "user", "content": "again"}
        record = StoredResponse(
            {"id": "resp_new", "output": []},
            [*parent.context, new],
            "d",
            time.time() + 60,
            [*parent.ids, "msg_new"],
        )
        await store.put("resp_new", record, parent)
        continued = await store.get("resp_new")
        assert continued is not None
        await store.aclose()
        return parent.ids, continued.ids

    assert asyncio.run(run()) == (["msg_old"], ["msg_old", "msg_new"])


def test_a_conversation_over_the_cap_is_a_400_and_nothing_goes_upstream(
    start_router: StartRouter, emulator: Emulator
) -> None:
    url = start_router(ROUTER_RESPONSES_MAX_CHAIN_BYTES="2048")
    sdk = openai.OpenAI(base_url=f"{url}/api/v1", api_key="unused", max_retries=0)
    first = sdk.responses.create(model="small", input="x" * 600)
    emulator.reset()
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.responses.create(model="small", input="y" * 1200, previous_response_id=first.id)
    assert caught.value.code == "context_length_exceeded"
    assert caught.value.param == "input"
    assert "2048" in caught.value.message
    assert emulator.requests() == []
    # Below the cap the same chain goes on.
    assert sdk.responses.create(model="small", input="ok", previous_response_id=first.id).id
