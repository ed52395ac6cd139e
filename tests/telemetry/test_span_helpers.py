"""The span helpers of shared/telemetry/spans.py and the sampler, through the SDK and the Azure
Monitor exporter's own span-to-envelope conversion (what Application Insights would receive)."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from azure.monitor.opentelemetry.exporter.export.trace._exporter import (
    _convert_span_to_envelope,
)
from azure.monitor.opentelemetry.exporter.export.trace._utils import _get_DJB2_sample_score
from opentelemetry import context, propagate, trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from shared import sampling
from shared import telemetry as t
from shared.upstream.apis import CHAT
from shared.upstream.stream import decode, observed, show
from shared.upstream.usage import Usage, read_usage

HOST_TRACE = "0af7651916cd43dd8448eb211c80319c"
HOST_SPAN = "b7ad6b7169203331"


class Spans:
    def __init__(self, ratio: float = 1.0) -> None:
        self.exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = t.tracer(provider, sample_ratio=ratio)

    def finished(self) -> dict[str, ReadableSpan]:
        return {s.name: s for s in self.exporter.get_finished_spans()}


@pytest.fixture
def spans() -> Spans:
    return Spans()


@pytest.fixture
def under_functions_host() -> Iterator[None]:
    """What the Python worker does before calling a function: attach the host's trace context
    (azure-functions-python-worker, otel.py: configure_opentelemetry)."""
    carrier = {"traceparent": f"00-{HOST_TRACE}-{HOST_SPAN}-01"}
    token = context.attach(propagate.extract(carrier))
    yield
    context.detach(token)


def request(spans: Spans, status: int, headers: dict[str, str] | None = None) -> ReadableSpan:
    attributes = t.server_attributes(
        "POST", "/api/v1/chat/completions", "https", "r.net", None, route="/api/v1/chat/completions"
    )
    with (
        t.request_span(
            spans.tracer, "POST /api/v1/chat/completions", headers or {}, attributes
        ) as span,
        spans.tracer.start_as_current_span("router.decide"),
    ):
        pass
    t.end_request(span, status)
    return spans.finished()["POST /api/v1/chat/completions"]


@pytest.mark.parametrize(
    ("status", "code", "success"), [(200, "200", True), (400, "400", False), (502, "502", False)]
)
def test_request_result_code_and_success(
    spans: Spans, status: int, code: str, success: bool
) -> None:
    span = request(spans, status)
    envelope = _convert_span_to_envelope(span)
    assert envelope.name.endswith(".Request")
    assert envelope.data.base_data.response_code == code
    assert envelope.data.base_data.success is success
    assert envelope.data.base_data.url == "https://r.net/api/v1/chat/completions"
    # A 4xx is the caller's error, not the server span's (HTTP server conventions).
    assert (span.status.status_code == StatusCode.ERROR) is (status >= 500)
    assert (span.attributes or {}).get("error.type") == ("502" if status == 502 else None)


@pytest.mark.usefixtures("under_functions_host")
def test_under_the_functions_host_the_router_span_is_a_child_of_the_hosts_request(
    spans: Spans,
) -> None:
    span = request(spans, 200, headers={"traceparent": f"00-{'1' * 32}-{'2' * 16}-01"})
    assert span.kind == SpanKind.INTERNAL  # the host reports the request itself
    assert format(span.context.trace_id, "032x") == HOST_TRACE
    envelope = _convert_span_to_envelope(span)
    assert envelope.name.endswith(".RemoteDependency")
    assert envelope.tags["ai.operation.parentId"] == HOST_SPAN
    decide = spans.finished()["router.decide"]
    assert decide.parent is not None
    assert decide.parent.span_id == span.context.span_id


def test_attempt_attributes_make_a_genai_dependency(spans: Spans) -> None:
    url = "https://acct.openai.azure.com/openai/deployments/gpt-5/chat/completions?api-version=x"
    attributes = t.attempt_attributes(url, "gpt-5", {"temperature": 0.5, "max_tokens": 9})
    with spans.tracer.start_as_current_span("chat gpt-5", kind=SpanKind.CLIENT) as span:
        span.set_attributes(attributes)
        t.attempt_failed(span, "429", 429)
    envelope = _convert_span_to_envelope(spans.finished()["chat gpt-5"])
    dependency = envelope.data.base_data
    assert dependency.type == "GenAI | azure.ai.openai"
    assert dependency.target == "acct.openai.azure.com"  # default port left out
    assert dependency.result_code == "429"
    assert dependency.success is False
    assert dependency.data == url.split("?")[0]  # no query: it may hold a credential
    assert dependency.properties["gen_ai.request.model"] == "gpt-5"
    assert dependency.properties["gen_ai.request.max_tokens"] == "9"


def test_stream_record_ends_the_span_with_what_the_stream_said(spans: Spans) -> None:
    span = spans.tracer.start_span("chat Phi-4-mini", kind=SpanKind.CLIENT)
    record = t.StreamRecord(span, capture=True)
    chunks: list[dict[str, Any]] = [
        {
            "id": "c1",
            "model": "Phi-4-mini-instruct",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}],
        },
        {
            "id": "c1",
            "choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}],
        },
        {"id": "c1", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}},
    ]
    for chunk in chunks:  # as the seam shows them, each metered first
        show(decode(orjson.dumps(chunk).decode()), record, usage_of_chunk)
    assert not spans.finished()  # still open until the stream ends
    record.end()
    record.end()  # once only
    attrs = spans.finished()["chat Phi-4-mini"].attributes or {}
    assert attrs["gen_ai.response.model"] == "Phi-4-mini-instruct"
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (3, 2)
    assert '"content":"Hello"' in str(attrs["gen_ai.output.messages"])


def test_stream_record_error_marks_the_span(spans: Spans) -> None:
    span = spans.tracer.start_span("chat x", kind=SpanKind.CLIENT)
    t.StreamRecord(span).end("incomplete_stream")
    ended = spans.finished()["chat x"]
    assert ended.status.status_code == StatusCode.ERROR
    assert (ended.attributes or {})["error.type"] == "incomplete_stream"


# --- sampling ----------------------------------------------------------------------------------


def trace_id_scored(kept: bool) -> int:
    numbers = random.Random(14)  # fixed: the same trace ids every run
    for _ in range(1_000):
        trace_id = f"{numbers.getrandbits(128):032x}"
        if (_get_DJB2_sample_score(trace_id) < 0.5) == kept:
            return int(trace_id, 16)
    raise AssertionError("no trace id found")


@pytest.mark.parametrize("kept", [True, False])
def test_children_follow_their_parent(kept: bool) -> None:
    spans = Spans(ratio=0.5)
    # A remote parent with the caller's trace id: the ratio decides on its hash, not the flag.
    parent = trace.SpanContext(
        trace_id_scored(kept), 0x42, is_remote=True, trace_flags=trace.TraceFlags(1)
    )
    token = context.attach(trace.set_span_in_context(trace.NonRecordingSpan(parent)))
    try:
        with spans.tracer.start_as_current_span("request", kind=SpanKind.SERVER):
            with spans.tracer.start_as_current_span("router.decide"):
                pass
            with spans.tracer.start_as_current_span("chat x", kind=SpanKind.CLIENT):
                pass
    finally:
        context.detach(token)
    finished = spans.finished()
    assert len(finished) == (3 if kept else 0)
    for span in finished.values():
        assert (span.attributes or {})[sampling.SAMPLE_RATE_KEY] == 50.0


def test_ratio_one_keeps_everything_without_a_sample_rate(spans: Spans) -> None:
    with spans.tracer.start_as_current_span("request"), spans.tracer.start_as_current_span("c"):
        pass
    assert {
        sampling.SAMPLE_RATE_KEY in (s.attributes or {}) for s in spans.finished().values()
    } == {False}


@pytest.mark.parametrize("raw", ["-0.1", "1.5", "half"])
def test_a_bad_ratio_names_the_setting(raw: str) -> None:
    with pytest.raises(ValueError, match=sampling.RATIO_SETTING):
        sampling.ratio_from({sampling.RATIO_SETTING: raw})


def test_ratio_default_and_value() -> None:
    assert sampling.ratio_from({}) == 1.0
    assert sampling.ratio_from({sampling.RATIO_SETTING: "0.25"}) == 0.25


def test_host_json_leaves_trace_sampling_to_the_router() -> None:
    """OpenTelemetry mode; no Application Insights SDK sampling settings (they belong to the
    other mode, and the host does not sample its traces in this one: README, telemetry)."""
    host = json.loads((Path(__file__).resolve().parents[2] / "host.json").read_text())
    assert host["telemetryMode"] == "OpenTelemetry"
    assert "applicationInsights" not in host.get("logging", {})


def usage_of_chunk(chunk: dict[str, Any]) -> Usage | None:
    """The seam's meter, without recording: the usage a chat chunk carries."""
    return read_usage(CHAT, chunk.get("usage"))


async def events_of(*data: str) -> AsyncIterator[str]:
    for item in data:
        yield item


FIRST = '{"model": "m", "choices": [{"index": 0, "delta": {"content": "a"}}]}'
LAST = '{"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}'


async def read_stream(spans: Spans, *rest: str, stop_after: int | None = None) -> ReadableSpan:
    span = spans.tracer.start_span("chat s", kind=SpanKind.CLIENT)
    record = t.StreamRecord(span)
    first = decode(FIRST)
    show(first, record, usage_of_chunk)
    events = observed(first, events_of(*rest), record, usage_of_chunk)
    read = -1  # the first event, already seen when the attempt returned, is yielded too
    async for _ in events:
        read += 1
        if read == stop_after:
            break
    await events.aclose()
    record.end()
    return spans.finished()["chat s"]


@pytest.mark.parametrize(
    ("rest", "stop_after", "error"),
    [
        ((LAST, "[DONE]"), None, None),
        ((LAST,), None, None),  # a finish reason without [DONE] is a whole answer
        (("{not json",), None, "malformed_chunk"),
        ((), None, "incomplete_stream"),
        ((FIRST, FIRST, LAST), 1, "abandoned"),  # the caller left
        ((LAST, "[DONE]"), 1, None),  # the relay stops at [DONE]... after the finish reason
    ],
)
async def test_streamed_attempt_ends_with_its_outcome(
    spans: Spans, rest: tuple[str, ...], stop_after: int | None, error: str | None
) -> None:
    ended = await read_stream(spans, *rest, stop_after=stop_after)
    assert (ended.attributes or {}).get("error.type") == error
    assert (ended.status.status_code == StatusCode.ERROR) is (error is not None)


def test_spans_are_named_by_route_template_not_by_url() -> None:
    from shared.edge import RouteTable

    table = RouteTable(
        [
            ("v1/chat/completions", ["POST"]),
            ("v1/responses/{response_id}", ["GET", "DELETE"]),
            ("openai/deployments/{deployment}/chat/completions", ["POST"]),
        ]
    )
    assert table.template("GET", "/api/v1/responses/resp_123") == "/api/v1/responses/{response_id}"
    assert table.template("POST", "/api/openai/deployments/gpt-5/chat/completions") == (
        "/api/openai/deployments/{deployment}/chat/completions"
    )
    assert table.template("POST", "/api/v1/chat/completions") == "/api/v1/chat/completions"
    assert table.template("POST", "/api/v1/responses/resp_123") is None  # no such method there
    assert table.template("GET", "/api/nowhere") is None
