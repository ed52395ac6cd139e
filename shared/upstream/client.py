"""Talking to Foundry: URL shapes, JSON and streaming calls over one aiohttp connection pool."""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import orjson
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import map_aiohttp_exceptions

from shared.settings import Tier
from shared.upstream.auth import Auth
from shared.upstream.urls import Api, target


@dataclass(frozen=True, slots=True)
class UpstreamReply:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: dict[str, Any]


JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}
MAX_CONNECTIONS = 1024


class FoundryClient:
    """One process-wide connection pool, created lazily on the running event loop.

    aiohttp's pool: httpcore's scans every connection per request (encode/httpcore#1035).
    JSON calls use aiohttp directly; streams go through httpx (its line reader and response
    type) over the same pool. Both raise httpx's exceptions, aiohttp's cause in __cause__.
    """

    def __init__(self, auth: Auth, connect_timeout_s: float) -> None:
        self.auth = auth
        self.connect_timeout_s = connect_timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._http: httpx.AsyncClient | None = None

    @functools.cached_property
    def tls(self) -> ssl.SSLContext:
        """Certificates checked as httpx checks them (certifi); ~50 ms to build, so once."""
        return httpx.create_ssl_context()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=MAX_CONNECTIONS,
                keepalive_timeout=5.0,  # httpx's idle expiry, which the pool had so far
                ssl=self.tls,
            )
            self._session = aiohttp.ClientSession(connector=connector, headers=JSON_HEADERS)
        return self._session

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            # verify= only stops the transport building a context of its own, unused: the
            # session's connector makes the connections.
            transport = AiohttpTransport(client=self.session, verify=self.tls)
            self._http = httpx.AsyncClient(transport=transport, headers=JSON_HEADERS)
        return self._http

    def _timeout(self, read_s: float) -> httpx.Timeout:
        return httpx.Timeout(read_s, connect=min(self.connect_timeout_s, read_s))

    async def complete(
        self, tier: Tier, body: dict[str, Any], timeout_s: float, api: Api = "chat"
    ) -> UpstreamReply:
        # Not through httpx: building its request and response models cost ~0.8 ms of CPU per
        # call, a third of the router's at concurrency 1 (bench/README.md).
        timeout = aiohttp.ClientTimeout(  # what AiohttpTransport makes of self._timeout()
            sock_connect=min(self.connect_timeout_s, timeout_s),
            sock_read=timeout_s,
            connect=timeout_s,
        )
        where = target(tier, api)
        with map_aiohttp_exceptions():
            async with self.session.post(
                where.url,
                data=orjson.dumps(body),
                headers={**await self.auth.headers(), **where.headers},
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                raw = await response.read()
        return UpstreamReply(response.status, response.headers, json_object(raw))

    async def open_stream(
        self, tier: Tier, body: dict[str, Any], idle_timeout_s: float, api: Api = "chat"
    ) -> httpx.Response:
        """Send a streaming request; the caller reads `aiter_lines()` and must `aclose()` it."""
        where = target(tier, api)
        request = self.http.build_request(
            "POST",
            where.url,
            content=orjson.dumps(body),
            headers={**await self.auth.headers(), **where.headers, "accept": "text/event-stream"},
            timeout=self._timeout(idle_timeout_s),
        )
        response = await self.http.send(request, stream=True)
        if response.status_code >= 400:
            await response.aread()
            await response.aclose()
        return response

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()  # closes the session too
            self._http = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self.auth.aclose()


def json_object(raw: bytes) -> dict[str, Any]:
    """Upstream bodies are JSON objects; anything else is kept as a message, never raised."""
    try:
        value = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        return {"error": {"message": raw[:200].decode("utf-8", "replace")}}
    return value if isinstance(value, dict) else {"value": value}


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
