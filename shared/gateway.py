"""The HTTP adapters: each endpoint reads and parses its request, hands it to its service
(shared/services/, shared/responses/service.py) and renders what comes back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Literal, TypedDict

import orjson
from opentelemetry import context, trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Span, Tracer, TracerProvider
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from shared import openapi, oplog
from shared import telemetry as t
from shared.api import ApiError, chat_request, parse_chat_request, parse_json_object
from shared.edge import (
    APP_ROUTES,
    CATCH_ALL,
    FUNCTION_KEY_QUERY,
    ROUTE_PREFIX,
    Endpoint,
    with_model,
)
from shared.responses.request import (
    is_responses_body,
    parse_responses_request,
    responses_request,
)
from shared.responses.service import ResponsesService
from shared.responses.store import make_store
from shared.routing.policy import AUTO, Decision, accepted_models, unknown_model
from shared.services.chat import ChatService
from shared.services.decide import Decider
from shared.services.outcome import Outcome
from shared.settings import Settings, Tier, load_settings
from shared.state.wiring import make_state
from shared.upstream.calls import Upstream
from shared.upstream.outcomes import DeploymentError

JSON = "application/json"
SESSION_HEADER = "x-router-session"


class JsonResponse(Response):
    media_type = JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(error: ApiError) -> JsonResponse:
    headers = {**error_headers(error, error.decision), **error.headers}
    return JsonResponse(error.body(), status_code=error.status, headers=headers)


Params = Mapping[str, str]  # a route's named path parameters
Handler = Callable[[Request, Params], Awaitable[Response]]


def guarded(
    tracer: Tracer, endpoint: Endpoint, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    """The function the host calls: the handler with the request's span around it and its
    path parameters; every failure leaves as an OpenAI error envelope, nothing internal leaks."""
    # One name per route (its template), not per URL: /api/v1/responses/{response_id}.
    template = ROUTE_PREFIX + endpoint.template.strip("/")

    async def run(request: Request) -> Response:
        if endpoint is CATCH_ALL:  # what no route took may still be a known path (a 405)
            route = APP_ROUTES.template(request.method, request.url.path)
        else:  # (a HEAD the local host lets through to a GET route has none)
            route = template if request.method in endpoint.methods else None
        name = f"{request.method} {route}" if route else request.method
        attributes = request_attributes(request, route)
        with t.request_span(tracer, name, request.headers, attributes) as span:
            try:
                response = await _answer(request)
            except BaseException:  # cancelled (the caller left): end the span all the same
                span.end()
                raise
        if isinstance(response, StreamingResponse):
            # The request lasts until its last byte: end the span with the body, not before.
            response.body_iterator = _ending(response.body_iterator, span, response.status_code)
        else:
            t.end_request(span, response.status_code)
        return response

    async def _answer(request: Request) -> Response:
        try:
            params = endpoint.params(request.url.path)
            if params is None:  # not this route's path after all: as if no route took it
                raise APP_ROUTES.unmatched(request.method, request.url.path)
            return await handler(request, params)
        except ApiError as error:
            return error_response(error)
        except Exception as exc:
            oplog.unhandled_error(endpoint.function, exc)
            return error_response(
                ApiError(500, "The router failed unexpectedly.", type="server_error")
            )

    return run


def request_attributes(request: Request, route: str | None) -> dict[str, Any]:
    url = request.url
    client = request.client
    return t.server_attributes(
        request.method,
        url.path,
        url.scheme,
        url.hostname,
        url.port,
        request.headers.get("user-agent"),
        client.host if client else None,
        route,
    )


async def _ending(body: AsyncIterable[Any], span: Span, status: int) -> AsyncIterator[Any]:
    """The body, sent after the handler returned and so outside its span: each step runs with
    the request span current again, so what happens as the stream goes (a stored turn's blob
    writes) is in the request's trace, not in traces of their own."""
    chunks = aiter(body)
    try:
        while True:
            token = context.attach(trace.set_span_in_context(span))
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            finally:
                context.detach(token)
            yield chunk
    finally:
        t.end_request(span, status)


class Gateway:
    def __init__(
        self,
        settings: Settings,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self.settings = settings
        self.routes = APP_ROUTES
        self.instruments = t.Instruments(meter_provider)
        self.tracer = t.tracer(tracer_provider)
        # Budgets, breakers, sessions and verdicts: this instance's, or every instance's.
        self.state = make_state(settings)
        self.upstream = Upstream(settings, self.tracer, self.instruments, health=self.state.health)
        self.decider = Decider(
            settings,
            self.upstream,
            self.tracer,
            self.instruments,
            sessions=self.state.sessions,
            verdicts=self.state.verdicts,
        )
        self.chat_service = ChatService(settings, self.decider, self.upstream)
        self.responses_service = ResponsesService(
            settings, make_store(settings), self.decider, self.upstream
        )

    @classmethod
    def from_env(cls) -> Gateway:
        return cls(load_settings())

    def endpoint(self, endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        """What the host calls for `endpoint` (shared/edge.py): its handler, guarded."""
        handler: Handler = getattr(self, endpoint.handler)
        return guarded(self.tracer, endpoint, handler)

    # ---- endpoints -------------------------------------------------------------------------

    def _deadline(self) -> float:
        """A request's budget, from its arrival: body, decision and every attempt."""
        return time.monotonic() + self.settings.limits.request_timeout_s

    async def chat(self, request: Request, params: Params) -> Response:
        deadline = self._deadline()
        raw = await self._read_body(request)
        deployment = params.get("deployment")
        if deployment is not None:  # Azure OpenAI's path: the deployment there is the model
            raw = with_model(raw, deployment)
        chat, body = parse_chat_request(raw)
        session = request.headers.get(SESSION_HEADER)
        return rendered(await self.chat_service.create(chat, body, session, deadline))

    async def responses(self, request: Request, params: Params) -> Response:
        """POST /v1/responses."""
        deadline = self._deadline()
        parsed = parse_responses_request(await self._read_body(request))
        session = request.headers.get(SESSION_HEADER)
        return rendered(await self.responses_service.create(parsed, session, deadline))

    async def response(self, request: Request, params: Params) -> Response:
        """GET or DELETE /v1/responses/{response_id}."""
        response_id = params["response_id"]
        if request.method == "DELETE":
            return JsonResponse(await self.responses_service.delete(response_id))
        return JsonResponse(await self.responses_service.retrieve(response_id))

    async def input_items(self, request: Request, params: Params) -> Response:
        """GET /v1/responses/{response_id}/input_items."""
        response_id = params["response_id"]
        # The function key may come as ?code= (the host checks it and passes it on): not a
        # parameter of the list.
        query = [(k, v) for k, v in request.query_params.multi_items() if k != FUNCTION_KEY_QUERY]
        return JsonResponse(await self.responses_service.input_items(response_id, query))

    async def route(self, request: Request, params: Params) -> Response:
        """POST /api/route: the decision alone for a chat completions or a Responses body."""
        deadline = self._deadline()
        body = parse_json_object(await self._read_body(request))
        session = request.headers.get(SESSION_HEADER)
        if is_responses_body(body):
            parsed = responses_request(body)
            decision, tier = await self.responses_service.decide(parsed, session, deadline)
        else:
            chat, forwarded = chat_request(body)
            decision = await self.chat_service.decide(chat, forwarded, session)
            tier = self.settings.tier(decision.tier)
        return JsonResponse(
            {
                "tier": decision.tier,
                "deployment": tier.deployment,
                "reason": decision.reason,
                "decided_by": decision.decided_by,
                "score": decision.score,
                "classifier_ms": decision.classifier_ms,
            },
            headers=answer_headers(decision, tier, ()),
        )

    async def models(self, request: Request, params: Params) -> Response:
        names = [AUTO, *(t.name for t in self.settings.tiers)]
        return JsonResponse({"object": "list", "data": [model_object(name) for name in names]})

    async def model_info(self, request: Request, params: Params) -> Response:
        """The Azure AI Model Inference API's `GET /info`, where azure-ai-inference's
        `ChatCompletionsClient.get_model_info()` asks: the router as one model."""
        return JsonResponse(MODEL_INFO)

    async def model(self, request: Request, params: Params) -> Response:
        name = params["model"]
        if name not in accepted_models(self.settings):
            error = unknown_model(self.settings, name)
            raise ApiError(404, error.message, code=error.code, param=error.param)
        return JsonResponse(model_object(name))

    async def unmatched(self, request: Request, params: Params) -> Response:
        raise self.routes.unmatched(request.method, request.url.path)

    async def health(self, request: Request, params: Params) -> Response:
        """GET /health, anonymous: up or not, no names, hosts or breaker state."""
        return JsonResponse({"status": "ok"})

    async def health_details(self, request: Request, params: Params) -> Response:
        """GET /health/details, behind the function key: the configuration without secrets,
        each deployment's breaker, cooldown and token window."""
        return JsonResponse(
            {
                "status": "ok",
                **self.settings.summary(),
                "shared_state": self.state.mode,
                "deployments": self.upstream.health.snapshot(),
            }
        )

    async def openapi(self, request: Request, params: Params) -> Response:
        return JsonResponse(openapi.document(accepted_models(self.settings)))

    # ---- helpers ---------------------------------------------------------------------------

    async def _read_body(self, request: Request) -> bytes:
        limit = self.settings.limits.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise body_too_large(limit)
        chunks: list[bytes] = []
        size = 0
        try:
            # A body that stalls (Content-Length larger than what is sent) must not hold the
            # connection for good.
            async with asyncio.timeout(self.settings.limits.body_timeout_s):
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise body_too_large(limit)
                    chunks.append(chunk)
        except TimeoutError:
            raise body_timed_out(self.settings.limits.body_timeout_s) from None
        return b"".join(chunks)

    async def aclose(self) -> None:
        await self.upstream.aclose()
        await self.responses_service.aclose()
        await self.state.aclose()


def rendered(outcome: Outcome) -> Response:
    """An answer with its x-router-* headers: an event stream, or JSON with its cost."""
    headers = {**answer_headers(outcome.decision, outcome.tier, outcome.changes), **outcome.headers}
    if outcome.events is not None:
        headers["cache-control"] = "no-cache"
        return StreamingResponse(outcome.events, media_type="text/event-stream", headers=headers)
    headers["x-router-cost-usd"] = f"{outcome.cost:.8f}"
    return JsonResponse(outcome.body, headers=headers)


# Model Inference API ModelInfo: model_name, model_type, model_provider_name.
MODEL_INFO = {
    "model_name": AUTO,
    "model_type": "chat-completion",
    "model_provider_name": "hybrid-router",
}


class ModelObject(TypedDict):
    """OpenAI's Model object, as GET /v1/models lists it."""

    id: str
    object: Literal["model"]
    created: int
    owned_by: str


def model_object(name: str) -> ModelObject:
    return {"id": name, "object": "model", "created": 0, "owned_by": "hybrid-router"}


def answer_headers(decision: Decision, tier: Tier, changes: tuple[str, ...]) -> dict[str, str]:
    """The x-router-* headers: who answered, and why that tier was chosen."""
    return {**tier_headers(tier, changes), **decision_headers(decision)}


def error_headers(error: ApiError, decision: Decision | None) -> dict[str, str]:
    """An error's x-router-* headers: the deployment that gave it, if one did, and why its tier
    was chosen, if the request got that far (a bad body is refused before any decision)."""
    headers = tier_headers(error.tier, error.changes) if isinstance(error, DeploymentError) else {}
    if decision is not None:
        headers.update(decision_headers(decision))
    return headers


def tier_headers(tier: Tier, changes: tuple[str, ...]) -> dict[str, str]:
    headers = {"x-router-tier": tier.name, "x-router-deployment": tier.deployment}
    if changes:
        headers["x-router-adjusted"] = "; ".join(changes)
    return headers


def decision_headers(decision: Decision) -> dict[str, str]:
    headers = {"x-router-reason": decision.reason, "x-router-decided-by": decision.decided_by}
    if decision.score is not None:
        headers["x-router-score"] = f"{decision.score:.3f}"
    if decision.classifier_ms is not None:
        headers["x-router-classifier-ms"] = f"{decision.classifier_ms:.1f}"
    return headers


def body_timed_out(limit_s: float) -> ApiError:
    return ApiError(
        408,
        f"The request body did not arrive within {limit_s:g} s.",
        code="request_timeout",
    )


def body_too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"The request body is larger than the router's limit of {limit} bytes.",
        code="request_too_large",
    )
