"""Telemetry as an operator reads it in Application Insights, each point checked with the real
Azure Monitor exporter against a recording ingestion endpoint (devtools/ingestion.py):

- the Responses store's blob calls land in their request's operation, streamed or not, and none
  of them is a failed dependency when the container exists (as infra creates it).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from devtools.ingestion import Envelope, Ingestion, running
from shared.settings import LARGE_DEFAULT
from tests.conftest import StartRouter
from tests.telemetry.test_app_insights import Trace, data, exporter_env

SMALL_ON_MODELS_ROUTE = {
    "name": "small",
    "deployment": "Phi-4-mini",
    "url_shape": "models",
    "input_price_per_1m": 0.075,
    "output_price_per_1m": 0.3,
}
DEFAULT_TIERS = [SMALL_ON_MODELS_ROUTE, {"name": "large", **LARGE_DEFAULT}]


@pytest.fixture(scope="module")
def ingestion() -> Iterator[Ingestion]:
    with running() as recorder:
        yield recorder


@pytest.fixture(scope="module")
def router(ingestion: Ingestion, start_router: StartRouter) -> Iterator[httpx.Client]:
    """The default tiers' shapes: Phi-4-mini on the models route, GPT-5 speaking Responses."""
    url = start_router(**exporter_env(ingestion, ROUTER_TIERS=json.dumps(DEFAULT_TIERS)))
    with httpx.Client(base_url=url, timeout=60) as client:
        yield client


def traced(trace: Trace) -> dict[str, str]:
    return {"traceparent": trace.traceparent}


def settle(ingestion: Ingestion, ready: Callable[[list[Envelope]], bool]) -> list[Envelope]:
    """What has arrived once `ready` holds, and a little after (late spans of the same trace)."""
    ingestion.wait_for(ready)
    time.sleep(0.5)
    return ingestion.items()


# --- the Responses store's blob calls ---------------------------------------------------------


@pytest.fixture(scope="module")
def storing_router(
    ingestion: Ingestion, start_router: StartRouter, azurite: str
) -> Iterator[httpx.Client]:
    """A router with the blob store, its container there already, as infra creates it."""
    from azure.storage.blob import BlobServiceClient

    container = f"ops{secrets.token_hex(4)}"
    with BlobServiceClient.from_connection_string(azurite) as service:
        service.create_container(container)
    env = exporter_env(
        ingestion,
        ROUTER_TIERS=json.dumps(DEFAULT_TIERS),
        ROUTER_RESPONSES_CONNECTION_STRING=azurite,
        ROUTER_RESPONSES_CONTAINER=container,
    )
    with httpx.Client(base_url=start_router(**env), timeout=60) as client:
        yield client


def is_blob_call(envelope: Envelope) -> bool:
    """azure-core's spans of a storage call: the SDK method (InProc) and its HTTP request."""
    base = data(envelope)
    return envelope["name"].endswith(".RemoteDependency") and (
        "/devstoreaccount1/" in str(base.get("data") or base.get("name"))
        or str(base.get("name", "")).startswith(("ContainerClient.", "BlobClient."))
    )


def response_id(reply: httpx.Response, stream: bool) -> str:
    if not stream:
        return str(reply.json()["id"])
    for line in reply.text.splitlines():
        if line.startswith("data: {") and '"response.created"' in line:
            return str(json.loads(line[6:])["response"]["id"])
    raise AssertionError(reply.text)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_store_writes_are_in_their_requests_operation_and_none_fails(
    storing_router: httpx.Client, ingestion: Ingestion, stream: bool
) -> None:
    trace = Trace(ingestion)
    body = {"model": "small", "input": f"where is my parcel {trace.id[:6]}?", "stream": stream}
    reply = storing_router.post("/api/v1/responses", json=body, headers=traced(trace))
    assert reply.status_code == 200, reply.text
    stored = response_id(reply, stream)

    def written(got: list[Envelope]) -> bool:
        return any(is_blob_call(e) and stored in str(data(e).get("data")) for e in got)

    items = settle(ingestion, written)
    # Every call that wrote this response is in its request's operation, not one of its own.
    writes = [e for e in items if is_blob_call(e) and stored in str(data(e).get("data"))]
    assert writes
    assert {e["tags"]["ai.operation.id"] for e in writes} == {trace.id}
    mine = [e for e in trace.mine(items) if is_blob_call(e)]
    assert any(data(e)["name"] == "ContainerClient.upload_blob" for e in mine)
    failed = [(data(e)["name"], data(e).get("resultCode")) for e in mine if not data(e)["success"]]
    assert not failed, failed
