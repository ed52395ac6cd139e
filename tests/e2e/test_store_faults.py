"""The Responses store when storage fails, against a real Azurite of each test's own: stopped,
paused (SIGSTOP), slow (a proxy holds each request), and a write that fails half-way. What
must be read before a model is asked fails fast with a 503 and asks no model; an answer the
model has given always reaches the caller, saying when it could not be stored; a stream always
ends in response.completed or response.failed; GET and item_reference agree."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from devtools import azurite
from tests.conftest import Emulator, StartRouter, require_azurite
from tests.e2e.blob_proxy import BlobProxy

STORE_TIMEOUT_S = 1.0


@dataclass
class Storage:
    server: azurite.Azurite
    proxy: BlobProxy

    def pause(self) -> None:
        os.kill(self.server.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.server.process.pid, signal.SIGCONT)


@pytest.fixture
def storage() -> Iterator[Storage]:
    require_azurite()
    server = azurite.start()
    proxy = BlobProxy(server.port)
    faults = Storage(server, proxy)
    try:
        yield faults
    finally:
        faults.resume()
        proxy.close()
        server.stop()


@pytest.fixture
def router(start_router: StartRouter, storage: Storage) -> Iterator[httpx.Client]:
    url = start_router(
        ROUTER_RESPONSES_CONNECTION_STRING=azurite.connection_string(storage.proxy.port),
        ROUTER_RESPONSES_STORE_TIMEOUT_S=str(STORE_TIMEOUT_S),
    )
    with httpx.Client(base_url=f"{url}/api/v1", timeout=30) as client:
        yield client


def create(router: httpx.Client, **body: Any) -> httpx.Response:
    return router.post("/responses", json={"model": "small", "input": "hi", **body})


def streamed(router: httpx.Client, **body: Any) -> list[dict[str, Any]]:
    request = {"model": "small", "input": "hi", "stream": True, **body}
    with router.stream("POST", "/responses", json=request) as reply:
        assert reply.status_code == 200
        raw = reply.read().decode()
    return [
        orjson.loads(line.removeprefix("data: "))
        for line in raw.splitlines()
        if line.startswith("data: ")
    ]


def assert_unavailable(reply: httpx.Response) -> None:
    assert reply.status_code == 503, reply.text
    assert int(reply.headers["retry-after"]) >= 1
    assert reply.json()["error"]["code"] == "store_unavailable"


def assert_answered_unstored(reply: httpx.Response) -> None:
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == "completed"
    message = next(item for item in body["output"] if item["type"] == "message")
    assert message["content"][0]["text"]
    assert body["store"] is False
    assert reply.headers["x-router-stored"] == "false"


def assert_stream_completed_unstored(events: list[dict[str, Any]]) -> None:
    assert events[-1]["type"] == "response.completed", events[-1]
    assert events[-1]["response"]["store"] is False
    assert any(e["type"] == "response.output_text.delta" for e in events)


def test_storage_stopped(router: httpx.Client, storage: Storage, emulator: Emulator) -> None:
    first = create(router)
    assert first.status_code == 200
    assert first.json()["store"] is True
    storage.server.stop()
    asked = len(emulator.requests())
    # A continuation needs the stored conversation first: a fast 503, no model asked.
    assert_unavailable(create(router, previous_response_id=first.json()["id"]))
    assert len(emulator.requests()) == asked
    assert_unavailable(router.get(f"/responses/{first.json()['id']}"))
    assert_unavailable(router.delete(f"/responses/{first.json()['id']}"))
    # A new turn needs nothing stored: the model answers, and the caller is told it was not kept,
    # translated from chat (small) or passed through to a tier that speaks Responses (large).
    for model in ("small", "large"):
        assert_answered_unstored(create(router, model=model))
        assert_stream_completed_unstored(streamed(router, model=model))


def test_storage_paused(router: httpx.Client, storage: Storage, emulator: Emulator) -> None:
    first = create(router)
    assert first.status_code == 200
    storage.pause()
    asked = len(emulator.requests())
    assert_unavailable(create(router, previous_response_id=first.json()["id"]))
    assert len(emulator.requests()) == asked
    assert_unavailable(router.get(f"/responses/{first.json()['id']}/input_items"))
    assert_answered_unstored(create(router))
    assert_stream_completed_unstored(streamed(router))


def test_storage_slower_than_its_timeout(router: httpx.Client, storage: Storage) -> None:
    first = create(router)
    assert first.status_code == 200
    storage.proxy.rules.delay_s = 3 * STORE_TIMEOUT_S
    assert_unavailable(router.get(f"/responses/{first.json()['id']}"))
    assert_answered_unstored(create(router))
    assert_stream_completed_unstored(streamed(router))
    storage.proxy.rules.delay_s = 0
    assert router.get(f"/responses/{first.json()['id']}").status_code == 200


def test_a_write_that_fails_half_way_is_not_found_by_get_nor_item_reference(
    router: httpx.Client, storage: Storage
) -> None:
    storage.proxy.rules.refuse = (b"/items/",)  # the output items' index: written first
    reply = create(router)
    assert_answered_unstored(reply)
    assert storage.proxy.rules.refused
    storage.proxy.rules.refuse = ()
    answer = reply.json()
    assert router.get(f"/responses/{answer['id']}").status_code == 404
    reference = {"type": "item_reference", "id": answer["output"][-1]["id"]}
    followed = create(router, input=[reference])
    assert followed.status_code == 400
    assert "not found" in followed.json()["error"]["message"]
