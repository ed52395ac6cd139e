"""The one HTTP stack to Foundry: one aiohttp connection pool for JSON calls and streams alike.

Callers get the project's types (`Reply`, `UpstreamStream`) and one exception,
`TransportError`; nothing of aiohttp leaves this module. The URL and the headers a shape needs
come from `urls.target(tier, api)`.

Why aiohttp alone and not httpx on top: httpx's request and response models cost ~0.5 ms of
CPU per call at every concurrency, httpcore's own pool more with concurrency (bench/README.md,
`client_pool.py`, and the A/B of this seam).
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import certifi
import orjson

from shared.settings import Tier
from shared.telemetry import trace_headers
from shared.upstream.auth import Auth
from shared.upstream.urls import Api, target

JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}
STREAM_HEADERS = {"accept": "text/event-stream"}
MAX_CONNECTIONS = 1024
# An SSE event larger than this is not an answer we can relay (a whole Responses object is
# far below it); it bounds what one stream can make us buffer.
MAX_EVENT_BYTES = 16 * 1024 * 1024


class TransportError(Exception):
    """The deployment could not be reached, or did not answer (in whole) in time."""

    def __init__(self, failure: str, *, timed_out: bool = False) -> None:
        super().__init__(failure)
        self.failure = failure  # the name of what went wrong at the bottom, for error.type
        self.timed_out = timed_out


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: dict[str, Any] | None  # None when the body is not a JSON object
    raw: bytes


class UpstreamStream:
    """An open streaming response: status and headers now, SSE `data` payloads as they come."""

    def __init__(self, response: aiohttp.ClientResponse, raw: bytes = b"") -> None:
        self._response = response
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers
        self.raw = raw  # the body of an error status, read in full

    def events(self, idle_s: float, deadline: float) -> AsyncIterator[str]:
        """Each event's data; a gap longer than `idle_s` or passing `deadline` (monotonic)
        raises TransportError(timed_out=True)."""
        return sse_data(lines_of(self._chunks(idle_s, deadline)))

    async def _chunks(self, idle_s: float, deadline: float) -> AsyncIterator[bytes]:
        content = self._response.content
        while True:
            limit = min(idle_s, deadline - time.monotonic())
            try:
                async with asyncio.timeout(max(0.0, limit)):
                    chunk = await content.readany()
            except TimeoutError:
                raise TransportError("stream_idle_timeout", timed_out=True) from None
            except (aiohttp.ClientError, OSError) as exc:
                raise TransportError(type(exc).__name__) from None
            if not chunk:
                return
            yield chunk

    async def aclose(self) -> None:
        if self._response.content.at_eof():
            self._response.release()  # read to the end: back to the pool
        else:
            self._response.close()  # a half-read stream: drop the connection


class FoundryClient:
    """One process-wide connection pool, created lazily on the running event loop.

    aiohttp's pool, not httpcore's: httpcore scans every connection per request
    (encode/httpcore#1035), a cost that grows with concurrency.
    """

    def __init__(self, auth: Auth, connect_timeout_s: float) -> None:
        self.auth = auth
        self.connect_timeout_s = connect_timeout_s
        self._session: aiohttp.ClientSession | None = None

    @functools.cached_property
    def tls(self) -> ssl.SSLContext:
        """Certificates checked against certifi's roots, as before; ~50 ms to build, so once."""
        return ssl.create_default_context(cafile=certifi.where())

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=MAX_CONNECTIONS,
                keepalive_timeout=5.0,  # expire idle connections before Azure's front end does
                ssl=self.tls,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=JSON_HEADERS,
                # Only the connect phase here; each call bounds itself as a whole (below).
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self.connect_timeout_s, sock_read=None
                ),
                # Foundry sets no cookies we need; a jar costs CPU per response.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def _headers(self, tier: Tier, api: Api, extra: Mapping[str, str]) -> tuple[str, Any]:
        where = target(tier, api)
        # W3C trace context of the current span (the attempt's): Foundry's side joins the trace.
        headers = {**await self.auth.headers(), **where.headers, **extra, **trace_headers()}
        return where.url, headers

    async def complete(self, tier: Tier, api: Api, body: dict[str, Any], timeout_s: float) -> Reply:
        """POST a JSON body; `timeout_s` bounds everything: connect, headers and the whole body."""
        url, headers = await self._headers(tier, api, {})
        try:
            async with asyncio.timeout(timeout_s):
                async with self.session.post(
                    url, data=orjson.dumps(body), headers=headers, allow_redirects=False
                ) as response:
                    raw = await response.read()
        except TimeoutError:
            raise TransportError("timeout", timed_out=True) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise TransportError(type(exc).__name__) from None
        return Reply(response.status, response.headers, json_object(raw), raw)

    async def open_stream(
        self, tier: Tier, api: Api, body: dict[str, Any], timeout_s: float
    ) -> UpstreamStream:
        """POST for a stream; returns once the headers are in (within `timeout_s`). An error
        status is read in full; the caller reads `events()` and must `aclose()` it."""
        url, headers = await self._headers(tier, api, STREAM_HEADERS)
        response: aiohttp.ClientResponse | None = None
        try:
            async with asyncio.timeout(timeout_s):
                response = await self.session.post(
                    url, data=orjson.dumps(body), headers=headers, allow_redirects=False
                )
                if response.status >= 400:
                    raw = await response.read()
                    response.release()
                    return UpstreamStream(response, raw)
        except TimeoutError:
            if response is not None:
                response.close()
            raise TransportError("timeout", timed_out=True) from None
        except (aiohttp.ClientError, OSError) as exc:
            if response is not None:
                response.close()
            raise TransportError(type(exc).__name__) from None
        return UpstreamStream(response)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self.auth.aclose()


def json_object(raw: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is anything else (HTML, a list, garbage)."""
    try:
        value = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


async def lines_of(
    chunks: AsyncIterator[bytes], limit: int = MAX_EVENT_BYTES
) -> AsyncIterator[str]:
    """The lines of a byte stream however it is chunked (LF or CRLF); a line longer than
    `limit` raises TransportError rather than grow the buffer without end."""
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
        if b"\n" in chunk:
            *lines, rest = buffer.split(b"\n")
            for line in lines:
                yield _text(line)
            buffer = bytearray(rest)
        if len(buffer) > limit:
            raise TransportError("event_too_large")
    if buffer:
        yield _text(buffer)


def _text(line: bytes | bytearray) -> str:
    return bytes(line).removesuffix(b"\r").decode("utf-8", "replace")


async def sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The `data` payloads of a server-sent event stream, one per event."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        # Comments (":") and other fields (event, id, retry) carry nothing for chat chunks.
    if data:
        yield "\n".join(data)
