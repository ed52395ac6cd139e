"""The HTTP edge: the Azure Functions app, one function per route of shared/edge.py's table,
each handing the request to the gateway.

Handlers take and return Starlette types (azurefunctions-extensions-http-fastapi), so the same
functions run under the Functions host and under devtools/localhost.py.
"""

# ruff: noqa: E402 (imports after gc.disable(), on purpose)
import gc

# Start-up builds ~80k long-lived objects and almost no garbage: collecting while it runs only
# walks them again and again (~200 ms of the import). Frozen and back on below.
gc.disable()

from collections.abc import Awaitable, Callable

import azure.functions as func
from azurefunctions.extensions.http.fastapi import Request, Response

from shared import telemetry
from shared.edge import FUNCTIONS, Endpoint
from shared.gateway import Gateway

telemetry.configure()  # a no-op under the Functions worker, which sets up Azure Monitor itself
app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
# Built at import so a bad app setting fails start-up with its name, not the first request.
gateway = Gateway.from_env()


def function_for(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint's function as the worker indexes it: `req` in, a response out, named as
    the table names it (the function's name is its Functions name)."""
    handle = gateway.endpoint(endpoint)

    async def function(req: Request) -> Response:
        return await handle(req)

    function.__name__ = function.__qualname__ = endpoint.function
    return function


for endpoint in FUNCTIONS:
    auth = func.AuthLevel.ANONYMOUS if endpoint.anonymous else None  # None: the app's FUNCTION
    app.route(route=endpoint.template, methods=list(endpoint.methods), auth_level=auth)(
        function_for(endpoint)
    )

# What start-up built (~80k objects: the worker, FastAPI, pydantic, us) lives as long as the
# process; frozen, the collector's full passes no longer walk it (they took ~80 ms each).
gc.freeze()
gc.enable()
