"""OTLP export (OTEL_EXPORTER_OTLP_ENDPOINT, outside Functions): the router's spans and the
Responses store's blob calls arrive at a collector in one trace, as with Azure Monitor. The
collector here is a loopback HTTP server that decodes what the OTLP/HTTP exporter posts."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.conftest import StartRouter


@dataclass(frozen=True)
class Received:
    name: str
    trace_id: str
    kind: int


class Collector:
    """Records the spans posted to /v1/traces; answers every other signal with 200 too."""

    def __init__(self) -> None:
        self.spans: list[Received] = []
        lock = threading.Lock()
        spans = self.spans

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if self.path == "/v1/traces":
                    request = ExportTraceServiceRequest.FromString(body)
                    with lock:
                        for resource in request.resource_spans:
                            for scope in resource.scope_spans:
                                spans.extend(
                                    Received(s.name, s.trace_id.hex(), s.kind) for s in scope.spans
                                )
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def trace(self, trace_id: str) -> list[Received]:
        return [s for s in list(self.spans) if s.trace_id == trace_id]


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    running = Collector()
    yield running
    running.server.shutdown()


def test_store_calls_reach_the_otlp_collector_in_the_requests_trace(
    collector: Collector, start_router: StartRouter, azurite: str
) -> None:
    url = start_router(
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
        OTEL_BSP_SCHEDULE_DELAY="100",  # ms
        ROUTER_RESPONSES_CONNECTION_STRING=azurite,
        ROUTER_RESPONSES_CONTAINER=f"otlp{secrets.token_hex(4)}",
    )
    trace_id = secrets.token_hex(16)
    reply = httpx.post(
        f"{url}/api/v1/responses",
        json={"model": "small", "input": "where is my parcel?"},
        headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        names = {s.name for s in collector.trace(trace_id)}
        if "ContainerClient.upload_blob" in names and "POST /api/v1/responses" in names:
            break
        time.sleep(0.2)
    names = {s.name for s in collector.trace(trace_id)}
    assert "POST /api/v1/responses" in names, names  # the router's own spans do arrive
    assert "ContainerClient.upload_blob" in names, names
