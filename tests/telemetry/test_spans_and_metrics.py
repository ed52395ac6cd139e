"""Spans and metrics of routed, retried and failed-over requests: the SDK's in-memory exporters.

The router runs in-process (so its providers can be the test's), the emulator over real HTTP.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.routing import Route

from shared import telemetry as t
from shared.edge import ENDPOINTS
from shared.gateway import Gateway
from shared.settings import load_settings
from tests.conftest import EMULATOR_KEY, FAILOVER_TIERS, Emulator

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


class Telemetry:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def finished(self, name: str | None = None) -> list[ReadableSpan]:
        return [s for s in self.spans.get_finished_spans() if name in (None, s.name)]

    def points(self, metric: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for m in scope.metrics
            if m.name == metric
            for point in m.data.data_points
        ]


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry()


async def router_client(
    emulator: Emulator, telemetry: Telemetry, **env: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = load_settings(
        {
            "FOUNDRY_ENDPOINT": emulator.url,
            "FOUNDRY_API_KEY": EMULATOR_KEY,
            "ROUTER_TIERS": json.dumps(FAILOVER_TIERS),
            "ROUTER_BACKOFF_BASE_S": "0.01",
            "ROUTER_MAX_ATTEMPTS": "2",
            **env,
        }
    )
    gateway = Gateway(settings, telemetry.tracer_provider, telemetry.meter_provider)
    chat = next(e for e in ENDPOINTS if e.template == "v1/chat/completions")
    endpoint = gateway.endpoint(chat)  # as function_app registers it
    app = Starlette(routes=[Route("/api/v1/chat/completions", endpoint, methods=["POST"])])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://router"
    ) as client:
        yield client
    await gateway.aclose()


@pytest.fixture
async def router(emulator: Emulator, telemetry: Telemetry) -> AsyncIterator[httpx.AsyncClient]:
    async for client in router_client(emulator, telemetry):
        yield client


async def ask(router: httpx.AsyncClient, model: str = "auto", text: str = "hi") -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": text}], "temperature": 0.2}
    reply = await router.post(
        "/api/v1/chat/completions", json=body, headers={"traceparent": TRACEPARENT}
    )
    assert reply.status_code == 200, reply.text
    return reply


async def test_routed_request_span_tree_and_metrics(
    router: httpx.AsyncClient, telemetry: Telemetry
) -> None:
    await ask(router)
    (root,) = telemetry.finished("POST /api/v1/chat/completions")
    (decide,) = telemetry.finished("router.decide")
    (call,) = telemetry.finished("chat Phi-4-mini")
    assert format(root.context.trace_id, "032x") == TRACE_ID  # the caller's trace continues
    assert root.kind == SpanKind.SERVER
    assert decide.parent.span_id == root.context.span_id
    assert call.parent.span_id == root.context.span_id
    assert decide.attributes["router.tier"] == "small"
    assert decide.attributes["router.decided_by"] == "scorer"
    assert 0 <= decide.attributes["router.score"] <= 1
    assert decide.attributes["router.cache_hit"] is False
    assert call.kind == SpanKind.CLIENT
    attrs = call.attributes
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "azure.ai.openai"
    assert attrs["gen_ai.request.model"] == "Phi-4-mini"
    assert attrs["gen_ai.response.model"]
    assert attrs["gen_ai.request.temperature"] == pytest.approx(0.2)
    assert attrs["gen_ai.usage.input_tokens"] > 0
    assert attrs["gen_ai.usage.output_tokens"] > 0
    assert attrs["http.response.status_code"] == 200
    assert attrs["router.attempt"] == 1
    assert "gen_ai.input.messages" not in attrs  # no prompt text unless asked for

    usage = telemetry.points("gen_ai.client.token.usage")
    assert {p.attributes["gen_ai.token.type"] for p in usage} == {"input", "output"}
    assert all(p.attributes["gen_ai.request.model"] == "Phi-4-mini" for p in usage)
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert duration.count == 1
    (decisions,) = telemetry.points("router.decisions")
    assert decisions.value == 1
    assert dict(decisions.attributes) == {"router.tier": "small", "router.decided_by": "scorer"}
    (cost,) = telemetry.points("router.cost.usd")
    assert cost.value > 0


async def test_retried_request_has_one_span_per_attempt(
    router: httpx.AsyncClient, telemetry: Telemetry, emulator: Emulator
) -> None:
    emulator.fault("Phi-4-mini", "rate_limit", times=1, retry_after_ms=50)
    await ask(router, model="small")
    first, second = telemetry.finished("chat Phi-4-mini")
    assert (first.attributes["router.attempt"], second.attributes["router.attempt"]) == (1, 2)
    assert first.attributes["error.type"] == "429"
    assert first.attributes["http.response.status_code"] == 429
    assert "error.type" not in second.attributes
    assert second.attributes["router.wait_before_s"] >= 0.05
    assert first.parent.span_id == second.parent.span_id
    (throttled,) = telemetry.points("router.upstream.throttled")
    assert throttled.value == 1
    assert throttled.attributes["router.deployment"] == "Phi-4-mini"


async def test_failover_attempts_are_siblings(
    router: httpx.AsyncClient, telemetry: Telemetry, emulator: Emulator
) -> None:
    emulator.fault("Phi-4-mini", "unavailable", times=None)
    reply = await ask(router, model="small")
    assert reply.json()["model"] == "Phi-4"
    failed = telemetry.finished("chat Phi-4-mini")
    (answered,) = telemetry.finished("chat Phi-4")
    assert len(failed) == 2
    assert {s.attributes["error.type"] for s in failed} == {"503"}
    assert {s.parent.span_id for s in [*failed, answered]} == {answered.parent.span_id}
    (cost,) = telemetry.points("router.cost.usd")
    assert dict(cost.attributes) == {"router.tier": "phi4"}  # billed to who answered


async def test_message_content_only_when_asked_for(
    emulator: Emulator, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    async for client in router_client(emulator, telemetry):
        await ask(client, model="small", text="secret plans")
    (call,) = telemetry.finished("chat Phi-4-mini")
    assert "secret plans" in call.attributes["gen_ai.input.messages"]
    assert call.attributes["gen_ai.output.messages"]


async def test_classifier_call_is_an_attempt_span_under_the_decision(
    emulator: Emulator, telemetry: Telemetry
) -> None:
    async for client in router_client(emulator, telemetry, ROUTER_PRESET="classifier"):
        await ask(client, text="where is my parcel")
    (decide,) = telemetry.finished("router.decide")
    calls = telemetry.finished("chat Phi-4-mini")  # either may end first: they run side by side
    (classify,) = [c for c in calls if c.parent.span_id == decide.context.span_id]
    (answer,) = [c for c in calls if c is not classify]
    assert classify.attributes["gen_ai.request.max_tokens"] <= 10
    # the answer, started while the classifier decided, belongs to the request
    assert answer.parent.span_id == decide.parent.span_id
    assert decide.attributes["router.decided_by"] == "classifier"
    assert decide.attributes["router.classifier_ms"] > 0
    assert decide.attributes["router.guess"] == "taken"


async def test_nothing_starts_early_on_a_tier_whose_breaker_is_open(
    emulator: Emulator, telemetry: Telemetry
) -> None:
    # Its one attempt would be refused at once; the span would tell of an answer never started.
    emulator.fault("Phi-4-mini", "server_error", times=None)
    env = {"ROUTER_PRESET": "classifier", "ROUTER_BREAKER_FAILURES": "1"}
    async for client in router_client(emulator, telemetry, **env):
        await ask(client, text="where is my parcel")  # Phi-4-mini fails: its breaker opens
        await ask(client, text="is my order shipped")
    first, second = telemetry.finished("router.decide")
    assert first.attributes["router.guess"] == "dropped"  # no verdict: the safe default
    assert "router.guess" not in second.attributes


async def test_a_stream_times_each_chunk_after_its_first(
    router: httpx.AsyncClient, telemetry: Telemetry
) -> None:
    await ask(router, model="small")  # a JSON answer has no chunks to time
    assert telemetry.points(t.TIME_PER_OUTPUT_CHUNK) == []
    body = {
        "model": "small",
        "stream": True,
        "stream_options": {"include_usage": True},  # so every chunk the model sent reaches us
        "messages": [{"role": "user", "content": "hi"}],
    }
    async with router.stream("POST", "/api/v1/chat/completions", json=body) as reply:
        assert reply.status_code == 200
        chunks = [line async for line in reply.aiter_lines() if line.startswith("data: {")]
    assert len(chunks) >= 3
    (per_chunk,) = telemetry.points(t.TIME_PER_OUTPUT_CHUNK)
    assert per_chunk.count == len(chunks) - 1  # each one after the first
    assert dict(per_chunk.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "azure.ai.openai",
        "gen_ai.request.model": "Phi-4-mini",
    }
    # The conventions' buckets, 0.01 s doubling to 81.92 s.
    assert list(per_chunk.explicit_bounds) == pytest.approx([0.01 * 2**i for i in range(14)])
    stream_call = max(telemetry.points(t.OPERATION_DURATION), key=lambda p: p.sum)
    assert 0 < per_chunk.sum <= stream_call.sum  # gaps within the one call
