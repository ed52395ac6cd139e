"""Telemetry as an operator reads it in Application Insights, each point checked with the real
Azure Monitor exporter against a recording ingestion endpoint (devtools/ingestion.py):

- the Foundry Models route is `azure.ai.inference`, the OpenAI routes `azure.ai.openai`
  (gen_ai.provider.name, and the dependency type built from it);
- a stream's gen_ai.client.operation.duration is the whole call, and the time to its first chunk
  is a measure of its own (gen_ai.client.operation.time_to_first_chunk);
- a Responses answer passed through from a tier that speaks Responses has finish reasons;
- the Responses store's blob calls land in their request's operation, streamed or not, and none
  of them is a failed dependency when the container exists (as infra creates it).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from devtools.ingestion import Envelope, Ingestion, running
from devtools.process import start_server
from shared.settings import LARGE_DEFAULT
from tests.conftest import EMULATOR_KEY, Emulator, StartRouter
from tests.telemetry.test_app_insights import Trace, attempts, data, exporter_env

SMALL_ON_MODELS_ROUTE = {
    "name": "small",
    "deployment": "Phi-4-mini",
    "url_shape": "models",
    "input_price_per_1m": 0.075,
    "output_price_per_1m": 0.3,
}
DEFAULT_TIERS = [SMALL_ON_MODELS_ROUTE, {"name": "large", **LARGE_DEFAULT}]


@pytest.fixture(scope="module")
def router(ingestion: Ingestion, start_module_router: StartRouter) -> Iterator[httpx.Client]:
    """The default tiers' shapes: Phi-4-mini on the models route, GPT-5 speaking Responses."""
    url = start_module_router(**exporter_env(ingestion, ROUTER_TIERS=json.dumps(DEFAULT_TIERS)))
    with httpx.Client(base_url=url, timeout=60) as client:
        yield client


def traced(trace: Trace) -> dict[str, str]:
    return {"traceparent": trace.traceparent}


def settle(ingestion: Ingestion, ready: Callable[[list[Envelope]], bool]) -> list[Envelope]:
    """What has arrived once `ready` holds, and a little after (late spans of the same trace)."""
    ingestion.wait_for(ready)
    time.sleep(0.5)
    return ingestion.items()


# --- provider -------------------------------------------------------------------------------


def test_the_models_route_is_azure_ai_inference(router: httpx.Client, ingestion: Ingestion) -> None:
    trace = Trace(ingestion)
    body = {"model": "small", "messages": [{"role": "user", "content": "where is my parcel?"}]}
    assert router.post("/api/v1/chat/completions", json=body, headers=traced(trace)).is_success
    _, deps = trace.wait(dependencies=2)
    (attempt,) = attempts(deps)
    assert "/models/chat/completions" in attempt["data"]
    assert attempt["properties"]["gen_ai.provider.name"] == "azure.ai.inference"
    assert attempt["type"] == "GenAI | azure.ai.inference"


def test_the_openai_route_stays_azure_ai_openai(router: httpx.Client, ingestion: Ingestion) -> None:
    trace = Trace(ingestion)
    body = {"model": "large", "messages": [{"role": "user", "content": "where is my parcel?"}]}
    assert router.post("/api/v1/chat/completions", json=body, headers=traced(trace)).is_success
    _, deps = trace.wait(dependencies=2)
    (attempt,) = attempts(deps)
    assert attempt["properties"]["gen_ai.provider.name"] == "azure.ai.openai"
    assert attempt["type"] == "GenAI | azure.ai.openai"


# --- finish reasons of a Responses answer passed through -------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_passed_through_responses_answer_has_finish_reasons(
    router: httpx.Client, ingestion: Ingestion, stream: bool
) -> None:
    trace = Trace(ingestion)
    body = {"model": "large", "input": "Plan a three-step migration to Postgres", "store": False}
    reply = router.post("/api/v1/responses", json={**body, "stream": stream}, headers=traced(trace))
    assert reply.status_code == 200, reply.text
    _, deps = trace.wait(dependencies=2)
    (attempt,) = attempts(deps)
    assert attempt["data"].endswith("/openai/v1/responses")  # passed through, not translated
    assert "stop" in attempt["properties"]["gen_ai.response.finish_reasons"]


# --- a stream's duration and its first chunk --------------------------------------------------

SLOW_MS = 800  # the emulator's whole answer; 30% of it before the first chunk


@pytest.fixture(scope="module")
def slow_emulator() -> Iterator[Emulator]:
    """An emulator of its own at real speed (the shared one answers instantly)."""
    server = start_server(["-m", "devtools.emulator", "--port", "0", "--speed", "1"])
    control = Emulator(server.url)
    control.configure("Phi-4-mini", latency_ms=[SLOW_MS, SLOW_MS], ttft_fraction=0.3)
    yield control
    control.http.close()
    server.stop()


def metric(items: list[Envelope], name: str) -> list[dict[str, Any]]:
    points = [e["data"]["baseData"]["metrics"][0] for e in items if e["name"].endswith(".Metric")]
    return [p for p in points if p["name"] == name]


def test_a_streams_duration_is_the_whole_call_and_its_first_chunk_a_measure_of_its_own(
    slow_emulator: Emulator, start_router: StartRouter
) -> None:
    with running() as ingestion:
        env = exporter_env(ingestion, ROUTER_TIERS=json.dumps(DEFAULT_TIERS))
        url = start_router(**env, FOUNDRY_ENDPOINT=slow_emulator.url, FOUNDRY_API_KEY=EMULATOR_KEY)
        body = {
            "model": "small",
            "stream": True,
            "messages": [{"role": "user", "content": "where is my parcel?"}],
        }
        trace = Trace(ingestion)
        with httpx.stream(
            "POST", f"{url}/api/v1/chat/completions", json=body, headers=traced(trace), timeout=60
        ) as reply:
            assert reply.status_code == 200
            assert "[DONE]" in reply.read().decode()
        _, deps = trace.wait(dependencies=2)
        (attempt,) = attempts(deps)
        items = settle(
            ingestion,
            lambda got: bool(
                metric(got, "gen_ai.client.operation.duration")
                and metric(got, "gen_ai.client.operation.time_to_first_chunk")
            ),
        )
    whole_ms = float(attempt["duration"].split(":")[-1]) * 1000
    (duration,) = metric(items, "gen_ai.client.operation.duration")
    (first_chunk,) = metric(items, "gen_ai.client.operation.time_to_first_chunk")
    assert duration["count"] == first_chunk["count"] == 1
    # The emulator sleeps 70% of the answer after the first chunk: the whole call is at least
    # that long, and its first chunk came before it ended.
    assert duration["value"] >= 0.7 * SLOW_MS / 1000
    assert whole_ms >= 0.7 * SLOW_MS
    assert first_chunk["value"] < duration["value"]


# --- the Responses store's blob calls ---------------------------------------------------------


@pytest.fixture(scope="module")
def storing_router(
    ingestion: Ingestion, start_module_router: StartRouter, azurite: str
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
    with httpx.Client(base_url=start_module_router(**env), timeout=60) as client:
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
