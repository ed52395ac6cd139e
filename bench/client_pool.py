"""Evidence for the upstream client's cost: each client the router has used, alone, POSTing to
the fast fake upstream at concurrency 1, 32 and 128, with its CPU ms per request. No router.

- httpx: httpx.AsyncClient on httpcore's pool (the router's client until 9a58cbf);
- httpx2: pydantic's API-compatible fork, linear pool bookkeeping (when importable);
- httpx+aiohttp: httpx over aiohttp's pool (httpx_aiohttp; the router's stream path);
- aiohttp: the aiohttp session alone (the router's client until httpx became it);
- httpx tuned / httpx+aiohttp tuned: `AsyncClient.send(stream=True)` with the URL and headers
  parsed once, on httpcore's pool and on aiohttp's;
- router: the router's own client (shared/upstream/client.py: httpx's transport API over
  aiohttp's pool, targets parsed once per tier).

Run: .venv/bin/python -m bench.client_pool [--seconds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
import uvloop
from httpx_aiohttp import AiohttpTransport

from bench.common import procs
from bench.common.layout import layout
from bench.common.table import markdown
from shared.settings import Tier
from shared.upstream.auth import ApiKeyAuth
from shared.upstream.client import FoundryClient

BODY_DICT: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
BODY = orjson.dumps(BODY_DICT)
HEADERS = {"api-key": "k", "content-type": "application/json"}
Post = Callable[[str], Awaitable[Any]]


async def httpx_like(lib: Any, stack: AsyncExitStack, **kwargs: Any) -> Post:
    limits = lib.Limits(max_connections=1024, max_keepalive_connections=256)  # as the router
    client = await stack.enter_async_context(lib.AsyncClient(limits=limits, **kwargs))

    async def post(url: str) -> Any:
        reply = await client.post(url, content=BODY, headers=HEADERS)
        return orjson.loads(reply.raise_for_status().content)

    return post


async def httpx_tuned(transport: httpx.AsyncBaseTransport | None, stack: AsyncExitStack) -> Post:
    """httpx as the router calls it: one client, the URL and headers parsed once, the timeout
    dict built once, `send(stream=True)` and one read."""
    limits = httpx.Limits(max_connections=1024, max_keepalive_connections=256)
    client = await stack.enter_async_context(
        httpx.AsyncClient(limits=limits, transport=transport, trust_env=False)
    )
    parsed: dict[str, httpx.URL] = {}
    headers = httpx.Headers(HEADERS)
    extensions = {"timeout": httpx.Timeout(30.0).as_dict()}

    async def post(url: str) -> Any:
        target = parsed.get(url) or parsed.setdefault(url, httpx.URL(url))
        request = httpx.Request(
            "POST", target, headers=headers, content=BODY, extensions=extensions
        )
        reply = await client.send(request, stream=True)
        try:
            raw = await reply.aread()
        finally:
            await reply.aclose()
        if reply.status_code >= 400:
            raise RuntimeError(reply.status_code)
        return orjson.loads(raw)

    return post


def aiohttp_transport() -> AiohttpTransport:
    """httpx-aiohttp's transport over a session of our own (its public `client=`): no cookie
    jar, the pool as large as the router's."""
    return AiohttpTransport(
        client=lambda: aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1024), cookie_jar=aiohttp.DummyCookieJar()
        )
    )


async def router_client(stack: AsyncExitStack) -> Post:
    client = FoundryClient(ApiKeyAuth("k"), 5.0)
    stack.push_async_callback(client.aclose)
    tiers: dict[str, Tier] = {}

    async def post(url: str) -> Any:
        tier = tiers.get(url) or tiers.setdefault(
            url, Tier(name="t", deployment="m", endpoint=url, url_shape="url")
        )
        reply = await client.complete(tier, "chat", BODY_DICT, 30.0)
        if reply.status >= 400 or reply.body is None:
            raise RuntimeError(reply.status)
        return reply.body

    return post


async def aiohttp_alone(stack: AsyncExitStack) -> Post:
    connector = aiohttp.TCPConnector(limit=1024)
    session = await stack.enter_async_context(aiohttp.ClientSession(connector=connector))

    async def post(url: str) -> Any:
        async with session.post(url, data=BODY, headers=HEADERS) as reply:
            reply.raise_for_status()
            return orjson.loads(await reply.read())

    return post


CLIENTS: dict[str, Callable[[AsyncExitStack], Awaitable[Post]]] = {
    "httpx": lambda stack: httpx_like(httpx, stack),
    "httpx+aiohttp": lambda stack: httpx_like(httpx, stack, transport=AiohttpTransport()),
    "httpx tuned": lambda stack: httpx_tuned(None, stack),
    "httpx+aiohttp tuned": lambda stack: httpx_tuned(aiohttp_transport(), stack),
    "aiohttp": aiohttp_alone,
    "router": router_client,
}
try:
    _httpx2 = importlib.import_module("httpx2")
    CLIENTS["httpx2"] = lambda stack: httpx_like(_httpx2, stack)
except ImportError:
    pass


async def load(name: str, url: str, concurrency: int, seconds: float) -> list[object]:
    async with AsyncExitStack() as stack:
        post = await CLIENTS[name](stack)
        await asyncio.gather(*(post(url) for _ in range(concurrency)))  # open the connections
        done = 0
        stop = time.perf_counter() + seconds

        async def user() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                await post(url)
                done += 1

        cpu, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(user() for _ in range(concurrency)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - started
    return [name, concurrency, f"{done / wall:,.0f}", f"{cpu * 1000 / done:.2f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3)
    args = parser.parse_args()
    place = layout(True)
    with tempfile.TemporaryDirectory(prefix="bench-pool-") as tmp:
        port = procs.free_port()
        argv = [sys.executable, "-m", "bench.common.fake_upstream", "--port", str(port)]
        upstream = procs.start("fake-upstream", argv, port, cpu=place.load, log_dir=Path(tmp))
        if place.gateway:
            os.sched_setaffinity(0, place.gateway)  # the client where the router would run
        try:
            rows = [
                uvloop.run(load(name, upstream.url + "/v1/chat/completions", c, args.seconds))
                for c in (1, 32, 128)
                for name in CLIENTS
            ]
        finally:
            upstream.stop()
    print(f"# upstream client alone ({place.describe()}, {args.seconds:g} s each)\n")
    print(markdown(["client", "c", "req/s", "client CPU ms/req"], rows))


if __name__ == "__main__":
    main()
