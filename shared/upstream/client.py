"""The one HTTP client to Foundry: httpx's request and response models over the aiohttp
connection pool that httpx-aiohttp's transport drives (the openai SDK's `DefaultAioHttpClient`
transport), for JSON calls and streams alike.

Callers get the project's types (`Reply`, `UpstreamStream`) and one exception,
`TransportError`; nothing of httpx leaves this module. The URL and the headers a shape needs
come from `urls.target(tier, api)`, parsed once per tier and API.

Why this transport and this path (bench/README.md, "httpx to Foundry", `client_pool.py`):
- httpcore's own pool scans every connection per request (encode/httpcore#1035): 3 ms of CPU
  per call at 32 concurrent calls, 9 ms at 128. Over aiohttp's pool httpx stays flat (0.2 ms).
- The transport is called directly (`handle_async_request`, httpx's transport API) rather than
  through `AsyncClient.send`: the client's layers are features the router turns off anyway
  (cookie jar, auth flows, redirects, event hooks, environment proxies) and cost 0.05-0.09 ms a
  call; what is left costs ~0.1 ms a call more than aiohttp alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import certifi
import httpx
import orjson
from httpx_aiohttp import AiohttpTransport

from shared.settings import Tier
from shared.telemetry import trace_headers
from shared.upstream.auth import Auth
from shared.upstream.urls import Api, target

Header = tuple[bytes, bytes]
JSON_HEADERS: tuple[Header, ...] = (
    (b"content-type", b"application/json"),
    (b"accept", b"application/json"),
)
STREAM_HEADERS: tuple[Header, ...] = (
    (b"content-type", b"application/json"),
    (b"accept", b"text/event-stream"),
)
MAX_CONNECTIONS = 1024
# An SSE event larger than this is not an answer we can relay (a whole Responses object is
# far below it); it bounds what one stream can make us buffer.
MAX_EVENT_BYTES = 16 * 1024 * 1024
# httpx's transport errors and what aiohttp raises past httpx-aiohttp's mapping.
_NETWORK_ERRORS = (httpx.TransportError, aiohttp.ClientError, OSError)


class TransportError(Exception):
    """The deployment could not be reached, or did not answer (in whole) in time."""

    def __init__(self, failure: str, *, timed_out: bool = False) -> None:
        super().__init__(failure)
        self.failure = failure  # the name of what went wrong at the bottom, for error.type
        self.timed_out = timed_out


class Headers(Mapping[str, str]):
    """A response's headers, case-insensitive: a view that keeps httpx's type in this module."""

    __slots__ = ("_headers",)

    def __init__(self, headers: httpx.Headers) -> None:
        self._headers = headers

    def __getitem__(self, name: str) -> str:
        return self._headers[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: dict[str, Any] | None  # None when the body is not a JSON object
    raw: bytes


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A tier's target for one API and kind of call, parsed once."""

    url: httpx.URL
    headers: list[Header]  # encoded, Host included: httpx adds nothing to a `stream=` request


class UpstreamStream:
    """An open streaming response: status and headers now, SSE `data` payloads as they come."""

    def __init__(self, response: httpx.Response, raw: bytes = b"") -> None:
        self._response = response
        self.status = response.status_code
        self.headers: Mapping[str, str] = Headers(response.headers)
        self.raw = raw  # the body of an error status, read in full

    def events(
        self, idle_s: float, deadline: float, *, deadline_cause: str = "request_timeout"
    ) -> AsyncIterator[str]:
        """Each event's data; a gap longer than `idle_s` raises TransportError(timed_out=True)
        named stream_idle_timeout, passing `deadline` (monotonic) one named `deadline_cause`."""
        return sse_data(lines_of(self._chunks(idle_s, deadline, deadline_cause)))

    async def _chunks(self, idle_s: float, deadline: float, cause: str) -> AsyncIterator[bytes]:
        chunks = aiter(self._response.aiter_bytes())
        while True:
            left = deadline - time.monotonic()
            try:
                async with asyncio.timeout(max(0.0, min(idle_s, left))):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except TimeoutError:
                failure = "stream_idle_timeout" if idle_s < left else cause
                raise TransportError(failure, timed_out=True) from None
            except _NETWORK_ERRORS as exc:
                raise TransportError(type(exc).__name__) from None
            yield chunk

    async def aclose(self) -> None:
        # Read to the end, the connection goes back to the pool; half-read, aiohttp drops it.
        await _close(self._response)


class FoundryClient:
    """One process-wide transport (one aiohttp pool), created lazily on the running loop."""

    def __init__(self, auth: Auth, connect_timeout_s: float) -> None:
        self.auth = auth
        self.connect_timeout_s = connect_timeout_s
        self._transport: AiohttpTransport | None = None
        self._targets: dict[tuple[str, Api, bool], _Prepared] = {}
        # Each call bounds itself as a whole (asyncio.timeout); the transport bounds only the
        # connect (its per-request aiohttp timeout replaces the session's). Built once.
        self._extensions = {
            "timeout": {"connect": connect_timeout_s, "read": None, "write": None, "pool": None}
        }
        self._credentials: dict[str, str] | None = None
        self._credential_headers: list[Header] = []

    @functools.cached_property
    def tls(self) -> ssl.SSLContext:
        """Certificates checked against certifi's roots; ~50 ms to build, so once."""
        return ssl.create_default_context(cafile=certifi.where())

    @property
    def transport(self) -> AiohttpTransport:
        if self._transport is None:
            self._transport = AiohttpTransport(client=self._session)
        return self._transport

    def _session(self) -> aiohttp.ClientSession:
        """The pool under the transport; httpx-aiohttp calls this once, on the running loop."""
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=MAX_CONNECTIONS,
                keepalive_timeout=5.0,  # expire idle connections before Azure's front end does
                ssl=self.tls,
            ),
            # Foundry sets no cookies we need; a jar costs CPU per response.
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    def _prepared(self, tier: Tier, api: Api, stream: bool) -> _Prepared:
        key = (tier.name, api, stream)
        prepared = self._targets.get(key)
        if prepared is None:
            where = target(tier, api)
            url = httpx.URL(where.url)
            fixed = [
                (b"host", url.netloc),
                *(STREAM_HEADERS if stream else JSON_HEADERS),
                *_encoded(where.headers),
            ]
            prepared = _Prepared(url, fixed)
            self._targets[key] = prepared
        return prepared

    async def _send(
        self, tier: Tier, api: Api, body: dict[str, Any], stream: bool
    ) -> httpx.Response:
        prepared = self._prepared(tier, api, stream)
        content = orjson.dumps(body)
        credentials = await self.auth.headers()
        if credentials is not self._credentials:  # a new token: encode it once
            self._credentials, self._credential_headers = credentials, _encoded(credentials)
        headers = [
            *prepared.headers,
            (b"content-length", str(len(content)).encode()),
            *self._credential_headers,
            # W3C trace context of the current span (the attempt's): Foundry joins the trace.
            *_encoded(trace_headers()),
        ]
        # `stream=` rather than `content=`: httpx then takes the headers as they are instead
        # of rebuilding them to add Host and Content-Length (both are in `headers`).
        request = httpx.Request(
            "POST",
            prepared.url,
            headers=headers,
            stream=httpx.ByteStream(content),
            extensions=self._extensions,
        )
        request.read()  # the transport sends `content` whole once it has been read
        return await self.transport.handle_async_request(request)

    async def complete(
        self,
        tier: Tier,
        api: Api,
        body: dict[str, Any],
        timeout_s: float,
        *,
        body_timeout_s: float | None = None,
        deadline: float | None = None,
        max_bytes: int | None = None,
    ) -> Reply:
        """POST a JSON body. `timeout_s` bounds connect and headers, and the body too unless
        `body_timeout_s` bounds it from the headers on (and never past `deadline`, monotonic):
        TransportError timeout / body_timeout. A body over `max_bytes` is refused as soon as
        it is known to be: TransportError answer_too_large."""
        response: httpx.Response | None = None
        failure = "timeout"
        try:
            async with asyncio.timeout(timeout_s) as limit:
                response = await self._send(tier, api, body, False)
                if body_timeout_s is not None:
                    left = body_timeout_s
                    if deadline is not None:
                        left = min(left, max(0.0, deadline - time.monotonic()))
                    limit.reschedule(asyncio.get_running_loop().time() + left)
                    failure = "body_timeout"
                raw = await _read(response, max_bytes)
        except TimeoutError:
            await _close(response)
            raise TransportError(failure, timed_out=True) from None
        except _NETWORK_ERRORS as exc:
            await _close(response)
            raise TransportError(type(exc).__name__) from None
        except TransportError:
            await _close(response)
            raise
        return Reply(response.status_code, Headers(response.headers), json_object(raw), raw)

    async def open_stream(
        self, tier: Tier, api: Api, body: dict[str, Any], timeout_s: float
    ) -> UpstreamStream:
        """POST for a stream; returns once the headers are in (within `timeout_s`). An error
        status is read in full; the caller reads `events()` and must `aclose()` it."""
        response: httpx.Response | None = None
        try:
            async with asyncio.timeout(timeout_s):
                response = await self._send(tier, api, body, True)
                if response.status_code >= 400:
                    return UpstreamStream(response, await response.aread())
        except TimeoutError:
            await _close(response)
            raise TransportError("timeout", timed_out=True) from None
        except _NETWORK_ERRORS as exc:
            await _close(response)
            raise TransportError(type(exc).__name__) from None
        return UpstreamStream(response)

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()
            self._transport = None
        await self.auth.aclose()


def _encoded(headers: Mapping[str, str]) -> list[Header]:
    return [(k.encode(), v.encode()) for k, v in headers.items()]


async def _read(response: httpx.Response, max_bytes: int | None) -> bytes:
    """The whole body, or TransportError when it is (or announces it will be) over `max_bytes`."""
    if max_bytes is None:
        return await response.aread()
    announced = response.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > max_bytes:
        raise TransportError("answer_too_large")
    parts: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise TransportError("answer_too_large")
        parts.append(chunk)
    return b"".join(parts)


async def _close(response: httpx.Response | None) -> None:
    if response is not None:
        with contextlib.suppress(*_NETWORK_ERRORS):
            await response.aclose()


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
