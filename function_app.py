"""The HTTP edge: Azure Functions routes, each handing the request to the gateway.

Handlers take and return Starlette types (azurefunctions-extensions-http-fastapi), so the same
functions run under the Functions host and under devtools/localhost.py.
"""

# ruff: noqa: E402 (imports after gc.disable(), on purpose)
import gc

# Start-up builds ~80k long-lived objects and almost no garbage: collecting while it runs only
# walks them again and again (~200 ms of the import). Frozen and back on below.
gc.disable()

from collections.abc import Callable
from typing import Any

import azure.functions as func
from azurefunctions.extensions.http.fastapi import Request, Response

from shared import telemetry
from shared.edge import CATCH_ALL_FUNCTION, CATCH_ALL_ROUTE
from shared.gateway import Gateway

telemetry.configure()  # a no-op under the Functions worker, which sets up Azure Monitor itself
app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
# Built at import so a bad app setting fails start-up with its name, not the first request.
gateway = Gateway.from_env()
# What start-up built (~80k objects: the worker, FastAPI, pydantic, us) lives as long as the
# process; frozen, the collector's full passes no longer walk it (they took ~80 ms each).
gc.freeze()
gc.enable()


def http(*, route: str, methods: list[str], **options: Any) -> Callable[..., Any]:
    """app.route, remembered in the gateway's route table (for 404 vs 405 on what no route took)."""
    gateway.routes.add(route, methods)
    return app.route(route=route, methods=methods, **options)


@http(route="v1/chat/completions", methods=["POST"])
async def chat_completions(req: Request) -> Response:
    return await gateway.chat(req)


# Azure OpenAI's own paths, so that the AzureOpenAI client and code written for an Azure OpenAI
# endpoint work against the function app; the deployment in the path is a `model` value.
@http(route="openai/deployments/{deployment}/chat/completions", methods=["POST"])
async def azure_chat_completions(req: Request) -> Response:
    return await gateway.chat(req)


@http(route="openai/v1/chat/completions", methods=["POST"])
async def azure_v1_chat_completions(req: Request) -> Response:
    return await gateway.chat(req)


@http(route="v1/responses", methods=["POST"])
async def responses_create(req: Request) -> Response:
    return await gateway.responses(req)


@http(route="openai/v1/responses", methods=["POST"])
async def azure_v1_responses_create(req: Request) -> Response:
    return await gateway.responses(req)


# The AzureOpenAI client with an api-version (the preview Responses API) calls this one.
@http(route="openai/responses", methods=["POST"])
async def azure_responses_create(req: Request) -> Response:
    return await gateway.responses(req)


@http(route="openai/responses/{response_id}", methods=["GET", "DELETE"])
async def azure_responses_stored(req: Request) -> Response:
    return await gateway.response(req)


@http(route="v1/responses/{response_id}", methods=["GET", "DELETE"])
async def responses_stored(req: Request) -> Response:
    return await gateway.response(req)


@http(route="openai/v1/responses/{response_id}", methods=["GET", "DELETE"])
async def azure_v1_responses_stored(req: Request) -> Response:
    return await gateway.response(req)


# What a stored response was made from (the openai SDK's client.responses.input_items.list).
@http(route="v1/responses/{response_id}/input_items", methods=["GET"])
async def responses_input_items(req: Request) -> Response:
    return await gateway.input_items(req)


@http(route="openai/v1/responses/{response_id}/input_items", methods=["GET"])
async def azure_v1_responses_input_items(req: Request) -> Response:
    return await gateway.input_items(req)


@http(route="openai/responses/{response_id}/input_items", methods=["GET"])
async def azure_responses_input_items(req: Request) -> Response:
    return await gateway.input_items(req)


@http(route="v1/models", methods=["GET"])
async def list_models(req: Request) -> Response:
    return await gateway.models(req)


@http(route="openai/v1/models", methods=["GET"])
async def azure_v1_list_models(req: Request) -> Response:
    return await gateway.models(req)


@http(route="v1/info", methods=["GET"])
async def model_info(req: Request) -> Response:
    return await gateway.model_info(req)


@http(route="v1/models/{model}", methods=["GET"])
async def retrieve_model(req: Request) -> Response:
    return await gateway.model(req)


@http(route="openai/v1/models/{model}", methods=["GET"])
async def azure_v1_retrieve_model(req: Request) -> Response:
    return await gateway.model(req)


@http(route="route", methods=["POST"])
async def route(req: Request) -> Response:
    return await gateway.route(req)


# Anonymous, for probes: whether the app is up, and nothing more. The host checks no key on an
# anonymous route, so what an operator reads (tiers, breakers) is on a keyed route of its own.
@http(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def health(req: Request) -> Response:
    return await gateway.health(req)


@http(route="health/details", methods=["GET"])
async def health_details(req: Request) -> Response:
    return await gateway.health_details(req)


@http(route="openapi.json", methods=["GET"])
async def openapi(req: Request) -> Response:
    return await gateway.openapi(req)


# Last on purpose (see shared/edge.py): what no function above took gets an OpenAI-format 404, or
# a 405 naming the methods its path accepts. Anonymous, as the host's own 404 is.
@app.function_name(CATCH_ALL_FUNCTION)
@app.route(
    route=CATCH_ALL_ROUTE, methods=list(func.HttpMethod), auth_level=func.AuthLevel.ANONYMOUS
)
async def unmatched(req: Request) -> Response:
    return await gateway.unmatched(req)
