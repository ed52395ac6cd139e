"""A local stand-in for Application Insights' ingestion endpoint that records what arrives
(for tests/telemetry and bench/telemetry_cost.py; not deployed).

The Azure Monitor exporter POSTs batches of telemetry items ("envelopes") to
`{IngestionEndpoint}/v2.1/track` as a JSON array (gzip'd when Content-Encoding says so; JSON
lines are accepted too) and reads back `{itemsReceived, itemsAccepted, errors}`. Everything else
the exporter's pipeline calls (live metrics, for one) gets an empty 200 and is not recorded.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Envelope = dict[str, Any]
TRACK_PATH = "/v2.1/track"


def decode(body: bytes, encoding: str | None) -> list[Envelope]:
    if encoding == "gzip" or body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    text = body.decode("utf-8").strip()
    if text.startswith("["):
        items: list[Envelope] = json.loads(text)
        return items
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class Ingestion:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.posts = 0
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                if not self.path.startswith(TRACK_PATH):
                    self._answer(200, {})
                    return
                items = decode(body, self.headers.get("content-encoding"))
                with recorder._lock:
                    recorder.envelopes.extend(items)
                    recorder.posts += 1
                n = len(items)
                self._answer(200, {"itemsReceived": n, "itemsAccepted": n, "errors": []})

            def do_GET(self) -> None:
                self._answer(200, {})

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def connection_string(self) -> str:
        return (
            "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
            f"IngestionEndpoint={self.url};LiveEndpoint={self.url}"
        )

    def items(self, kind: str | None = None) -> list[Envelope]:
        """Recorded envelopes, optionally of one kind ("Request", "RemoteDependency", "Metric")."""
        with self._lock:
            items = list(self.envelopes)
        return [e for e in items if kind is None or e.get("name", "").endswith(f".{kind}")]

    def wait_for(
        self, done: Callable[[list[Envelope]], bool], timeout: float = 20.0
    ) -> list[Envelope]:
        """Poll until `done(envelopes)` holds (the exporter sends in batches, a little later)."""
        deadline = time.monotonic() + timeout
        while True:
            items = self.items()
            if done(items):
                return items
            if time.monotonic() > deadline:
                names = sorted({e.get("name", "?") for e in items})
                raise AssertionError(f"not arrived in {timeout} s; got {len(items)}: {names}")
            time.sleep(0.1)


@contextmanager
def running() -> Iterator[Ingestion]:
    ingestion = Ingestion()
    thread = threading.Thread(target=ingestion.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ingestion
    finally:
        ingestion.server.shutdown()
        ingestion.server.server_close()
