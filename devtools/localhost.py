"""A local stand-in for the Functions host: serves shared/edge.py's functions under /api.

Core Tools cannot be installed offline; this serves the same handlers at the same URLs as
`func start` (port 7071, prefix /api), registered from the same table as function_app.py. With
LOCAL_FUNCTION_KEY set it enforces function keys the way Azure does (header `x-functions-key`
or query `code`); unset, like `func start`, it doesn't.

Run: python -m devtools.localhost [--port 7071]
"""

from __future__ import annotations

import argparse
import hmac
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.edge import FUNCTION_KEY_HEADER, FUNCTION_KEY_QUERY, FUNCTIONS, ROUTE_PREFIX

if TYPE_CHECKING:
    from shared.gateway import Gateway

Handler = Callable[[Request], Awaitable[Response]]


def create_app(gateway: Gateway, function_key: str | None = None) -> Starlette:
    routes = []
    # The host tries routes in the order of function names (shared/edge.py); so do we.
    for endpoint in sorted(FUNCTIONS, key=lambda e: e.function.lower()):
        handler = gateway.endpoint(endpoint)
        if function_key and not endpoint.anonymous:
            handler = require_key(handler, function_key)
        path = ROUTE_PREFIX + starlette_path(endpoint.template)
        routes.append(CaselessRoute(path, handler, methods=list(endpoint.methods)))
    return Starlette(routes=routes, lifespan=_closing(gateway))


class CaselessRoute(Route):
    """A route whose path matches in any letter case, as the Functions host matches routes
    (shared/edge.py compiles the same templates case-insensitively): GET /api/V1/Models is
    /api/v1/models there, so it is here."""

    def __init__(self, path: str, endpoint: Handler, methods: list[str]) -> None:
        super().__init__(path, endpoint, methods=methods)
        self.path_regex = re.compile(self.path_regex.pattern, re.IGNORECASE)


def starlette_path(template: str) -> str:
    """A Functions route template in Starlette's syntax: `{*rest}` catches the rest of the path."""
    return re.sub(r"\{\*(\w+)\}", r"{\1:path}", template)


def require_key(handler: Handler, key: str) -> Handler:
    async def checked(request: Request) -> Response:
        given = (
            request.headers.get(FUNCTION_KEY_HEADER)
            or request.query_params.get(FUNCTION_KEY_QUERY)
            or ""
        )
        if not hmac.compare_digest(given.encode(), key.encode()):
            return JSONResponse(
                {
                    "error": {
                        "message": "Missing or invalid function key (x-functions-key or ?code=).",
                        "type": "invalid_request_error",
                        "code": "invalid_function_key",
                        "param": None,
                    }
                },
                status_code=401,
            )
        return await handler(request)

    return checked


def _closing(gateway: Gateway) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await gateway.aclose()

    return lifespan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7071)
    args = parser.parse_args()

    from devtools.serve import serve
    from shared import oplog

    oplog.to_console()  # failovers, 429 waits, breakers: on the console, as in Azure's log
    from function_app import gateway  # built as the Functions app builds it

    serve(create_app(gateway, os.environ.get("LOCAL_FUNCTION_KEY") or None), args.host, args.port)


if __name__ == "__main__":
    main()
