"""The HTTP edge: Azure Functions routes, each handing the request to the gateway.

Handlers take and return Starlette types (azurefunctions-extensions-http-fastapi), so the same
functions run under the Functions host and under devtools/localhost.py.
"""

# ruff: noqa: E402 (imports after gc.disable(), on purpose)
import gc

# Start-up builds ~80k long-lived objects and almost no garbage: collecting while it runs only
# walks them again and again (~200 ms of the import). Frozen and back on below.
gc.disable()

import azure.functions as func
from azurefunctions.extensions.http.fastapi import Request, Response

from shared import telemetry
from shared.gateway import Gateway

telemetry.configure()  # a no-op under the Functions worker, which sets up Azure Monitor itself
app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
# Built at import so a bad app setting fails start-up with its name, not the first request.
gateway = Gateway.from_env()
# What start-up built (~80k objects: the worker, FastAPI, pydantic, us) lives as long as the
# process; frozen, the collector's full passes no longer walk it (they took ~80 ms each).
gc.freeze()
gc.enable()


@app.route(route="v1/chat/completions", methods=["POST"])
async def chat_completions(req: Request) -> Response:
    return await gateway.chat(req)


@app.route(route="v1/models", methods=["GET"])
async def list_models(req: Request) -> Response:
    return await gateway.models(req)


@app.route(route="route", methods=["POST"])
async def route(req: Request) -> Response:
    return await gateway.route(req)


@app.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def health(req: Request) -> Response:
    return await gateway.health(req)


@app.route(route="openapi.json", methods=["GET"])
async def openapi(req: Request) -> Response:
    return await gateway.openapi(req)
