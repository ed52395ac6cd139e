"""One request end to end: parse, decide, shape, call, respond."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Span, TracerProvider
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from shared import openapi
from shared import telemetry as t
from shared.api import ApiError, ChatRequest, content_text, parse_chat_request
from shared.edge import RouteTable, deployment_in_path, with_model
from shared.responses.service import Answered, ResponsesApi
from shared.responses.store import make_store
from shared.routing.cache import TtlCache
from shared.routing.classifier import Classifier, Label
from shared.routing.eligibility import Needs, chat_needs, taker
from shared.routing.policy import AUTO, Decision, RoutingPolicy, accepted_models, unknown_model
from shared.settings import Settings, Tier, load_settings
from shared.streaming import relay
from shared.upstream.apis import CHAT
from shared.upstream.calls import Upstream
from shared.upstream.models import cost_usd
from shared.upstream.outcomes import DeploymentError

log = logging.getLogger("hybrid_router")
JSON = "application/json"
SESSION_HEADER = "x-router-session"


class JsonResponse(Response):
    media_type = JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


@dataclass
class _Exchange:
    """What one request has decided so far: an error after the decision says why that tier
    was chosen, as an answer does (the Responses API decides inside its service, through
    `Gateway._decide`, so the decision travels with the request, not through return values)."""

    decision: Decision | None = None


_EXCHANGE: ContextVar[_Exchange | None] = ContextVar("router_exchange", default=None)


def error_response(error: ApiError, decision: Decision | None = None) -> JsonResponse:
    headers = {**error_headers(error, decision), **error.headers}
    return JsonResponse(error.body(), status_code=error.status, headers=headers)


def guarded(
    handler: Callable[[Gateway, Request], Awaitable[Response]],
) -> Callable[[Gateway, Request], Awaitable[Response]]:
    """Every failure leaves as an OpenAI error envelope; nothing internal leaks to the caller."""

    async def run(self: Gateway, request: Request) -> Response:
        # One name per route (its template), not per URL: /v1/responses/{response_id}.
        route = self.routes.template(request.method, request.url.path)
        name = f"{request.method} {route}" if route else request.method
        attributes = request_attributes(request, route)
        with t.request_span(self.tracer, name, request.headers, attributes) as span:
            try:
                response = await _answer(self, request)
            except BaseException:  # cancelled (the caller left): end the span all the same
                span.end()
                raise
        if isinstance(response, StreamingResponse):
            # The request lasts until its last byte: end the span with the body, not before.
            response.body_iterator = _ending(response.body_iterator, span, response.status_code)
        else:
            t.end_request(span, response.status_code)
        return response

    async def _answer(self: Gateway, request: Request) -> Response:
        exchange = _Exchange()
        token = _EXCHANGE.set(exchange)
        try:
            return await handler(self, request)
        except ApiError as error:
            return error_response(error, exchange.decision)
        except Exception:
            log.exception("unhandled error in %s", handler.__name__)
            return error_response(
                ApiError(500, "The router failed unexpectedly.", type="server_error")
            )
        finally:
            _EXCHANGE.reset(token)

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
    try:
        async for chunk in body:
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
        self.routes = RouteTable(())  # function_app sets its table once every route is defined
        self.instruments = t.Instruments(meter_provider)
        self.tracer = t.tracer(tracer_provider)
        self.upstream = Upstream(settings, self.tracer, self.instruments)
        classifier_tier = settings.tier(settings.classifier_tier)
        cache: TtlCache[Label] = TtlCache(
            settings.classifier_cache_ttl_s, settings.classifier_cache_size
        )
        self.policy = RoutingPolicy(
            settings,
            Classifier(
                lambda body: self._ask(classifier_tier, body),
                settings.classifier_timeout_s,
                cache,
            ),
            TtlCache(settings.session_ttl_s, settings.session_max),
        )
        self.responses_api = ResponsesApi(
            settings,
            make_store(settings),
            self._decide,
            self.upstream,
            self._count_usage,
            self._count_cost,
        )

    @classmethod
    def from_env(cls) -> Gateway:
        return cls(load_settings())

    # ---- endpoints -------------------------------------------------------------------------

    @guarded
    async def chat(self, request: Request) -> Response:
        # The request's budget starts when it arrives: body, decision and every attempt.
        deadline = time.monotonic() + self.settings.request_timeout_s
        raw = await self._read_body(request)
        deployment = deployment_in_path(request.url.path)
        if deployment is not None:  # Azure OpenAI's path: the deployment there is the model
            raw = with_model(raw, deployment)
        chat, body = parse_chat_request(raw)
        needs = chat_needs(body)
        decision = await self._decide(chat, body, request.headers.get(SESSION_HEADER), needs)
        first = self.settings.tier(decision.tier)
        eligible = taker(self.settings.tiers, needs)
        if chat.stream:
            # Always ask for usage upstream: the cost is ours to account, even if not shown.
            body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
            started = await self.upstream.stream(first, body, deadline, eligible=eligible)
            include_usage = bool(chat.stream_options and chat.stream_options.include_usage)
            return StreamingResponse(
                relay(started, include_usage, self._count_usage),
                media_type="text/event-stream",
                headers={
                    **answer_headers(decision, started.tier, started.changes),
                    "cache-control": "no-cache",
                },
            )
        answered = await self.upstream.complete(first, body, deadline, eligible=eligible)
        tier, answer = answered.tier, answered.body
        answer["model"] = tier.deployment
        cost = cost_usd(tier, answer.get("usage"))
        self.instruments.cost.add(cost, {t.TIER: tier.name})
        headers = answer_headers(decision, tier, answered.changes)
        headers["x-router-cost-usd"] = f"{cost:.8f}"
        return JsonResponse(answer, headers=headers)

    async def _decide(
        self,
        chat: ChatRequest,
        body: dict[str, Any],
        session_header: str | None,
        needs: Needs | None = None,
    ) -> Decision:
        session = session_header or chat.user
        with self.tracer.start_as_current_span("router.decide") as span:
            # the Responses API passes its tools on `chat` and its translated messages in `body`
            tools = body.get("tools") or chat.tools
            decision = await self.policy.decide(
                chat.model, body["messages"], tools, session, needs or chat_needs(body)
            )
            span.set_attributes(
                {
                    t.TIER: decision.tier,
                    t.DECIDED_BY: decision.decided_by,
                    t.REASON: decision.reason,
                    t.CACHE_HIT: decision.decided_by == "cache",
                }
            )
            if decision.score is not None:
                span.set_attribute(t.SCORE, decision.score)
            if decision.classifier_ms is not None:
                span.set_attribute(t.CLASSIFIER_MS, decision.classifier_ms)
        self.instruments.decisions.add(
            1, {t.TIER: decision.tier, t.DECIDED_BY: decision.decided_by}
        )
        exchange = _EXCHANGE.get()
        if exchange is not None:
            exchange.decision = decision
        return decision

    @guarded
    async def responses(self, request: Request) -> Response:
        """POST /v1/responses: the work is shared/responses'; here only the HTTP answer."""
        deadline = time.monotonic() + self.settings.request_timeout_s
        raw = await self._read_body(request)
        session = request.headers.get(SESSION_HEADER)
        return responses_answer(await self.responses_api.create(raw, session, deadline))

    @guarded
    async def response(self, request: Request) -> Response:
        """GET or DELETE /v1/responses/{id}."""
        response_id = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        if request.method == "DELETE":
            return JsonResponse(await self.responses_api.delete(response_id))
        return JsonResponse(await self.responses_api.retrieve(response_id))

    @guarded
    async def input_items(self, request: Request) -> Response:
        """GET /v1/responses/{id}/input_items."""
        response_id = request.url.path.rstrip("/").rsplit("/", 2)[-2]
        query = request.query_params.multi_items()
        return JsonResponse(await self.responses_api.input_items(response_id, query))

    @guarded
    async def route(self, request: Request) -> Response:
        chat, body = parse_chat_request(await self._read_body(request))
        decision = await self._decide(chat, body, request.headers.get(SESSION_HEADER))
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

    @guarded
    async def models(self, request: Request) -> Response:
        names = [AUTO, *(t.name for t in self.settings.tiers)]
        return JsonResponse({"object": "list", "data": [model_object(name) for name in names]})

    @guarded
    async def model(self, request: Request) -> Response:
        name = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        if name not in accepted_models(self.settings):
            error = unknown_model(self.settings, name)
            raise ApiError(404, error.message, code=error.code, param=error.param)
        return JsonResponse(model_object(name))

    @guarded
    async def unmatched(self, request: Request) -> Response:
        raise self.routes.unmatched(request.method, request.url.path)

    @guarded
    async def health(self, request: Request) -> Response:
        return JsonResponse(
            {
                "status": "ok",
                **self.settings.summary(),
                "deployments": self.upstream.health.snapshot(),
            }
        )

    @guarded
    async def openapi(self, request: Request) -> Response:
        return JsonResponse(openapi.document(accepted_models(self.settings)))

    # ---- helpers ---------------------------------------------------------------------------

    async def _read_body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise body_too_large(limit)
        chunks: list[bytes] = []
        size = 0
        try:
            # A body that stalls (Content-Length larger than what is sent) must not hold the
            # connection for good.
            async with asyncio.timeout(self.settings.body_timeout_s):
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise body_too_large(limit)
                    chunks.append(chunk)
        except TimeoutError:
            raise body_timed_out(self.settings.body_timeout_s) from None
        return b"".join(chunks)

    async def _ask(self, tier: Tier, body: dict[str, Any]) -> str:
        """The classifier's call: one attempt through the health book (its budget, cooldown and
        breaker, like any other call); any failure means the safe default."""
        deadline = time.monotonic() + self.settings.classifier_timeout_s
        reply = await self.upstream.complete(tier, body, deadline, one_shot=True)
        self.instruments.cost.add(cost_usd(tier, reply.body.get("usage")), {t.TIER: tier.name})
        choices = reply.body.get("choices") or [{}]
        return content_text((choices[0].get("message") or {}).get("content"))

    def _count_cost(self, tier: Tier, cost: float) -> None:
        self.instruments.cost.add(cost, {t.TIER: tier.name})

    def _count_usage(self, tier: Tier, usage: dict[str, Any], cost: float) -> None:
        self.instruments.cost.add(cost, {t.TIER: tier.name})
        self.upstream.record_usage(CHAT, tier, usage)

    async def aclose(self) -> None:
        await self.upstream.aclose()
        await self.responses_api.aclose()


def responses_answer(answered: Answered) -> Response:
    headers = answer_headers(answered.decision, answered.tier, answered.changes)
    if answered.events is not None:
        headers["cache-control"] = "no-cache"
        return StreamingResponse(answered.events, media_type="text/event-stream", headers=headers)
    headers["x-router-cost-usd"] = f"{answered.cost:.8f}"
    return JsonResponse(answered.body, headers=headers)


def model_object(name: str) -> dict[str, Any]:
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
