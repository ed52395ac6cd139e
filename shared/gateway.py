"""One request end to end: parse, decide, shape, call, respond."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from shared import openapi
from shared import telemetry as t
from shared.api import ApiError, ChatRequest, content_text, parse_chat_request
from shared.routing.cache import TtlCache
from shared.routing.classifier import Classifier, Label
from shared.routing.eligibility import chat_needs
from shared.routing.policy import AUTO, Decision, RoutingPolicy, accepted_models
from shared.settings import Settings, Tier, load_settings
from shared.streaming import relay
from shared.upstream import errors
from shared.upstream.attempts import Attempts
from shared.upstream.auth import make_auth
from shared.upstream.client import FoundryClient
from shared.upstream.health import BreakerPolicy, HealthBook
from shared.upstream.models import cost_usd, shape_for_tier
from shared.upstream.resilience import Resilience, RetryPolicy

log = logging.getLogger("hybrid_router")
JSON = "application/json"
SESSION_HEADER = "x-router-session"


class JsonResponse(Response):
    media_type = JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(error: ApiError) -> JsonResponse:
    return JsonResponse(error.body(), status_code=error.status, headers=error.headers)


def guarded(
    handler: Callable[[Gateway, Request], Awaitable[Response]],
) -> Callable[[Gateway, Request], Awaitable[Response]]:
    """Every failure leaves as an OpenAI error envelope; nothing internal leaks to the caller."""

    async def run(self: Gateway, request: Request) -> Response:
        name = f"{request.method} {request.url.path}"
        with t.request_span(self.tracer, name, request.headers) as span:
            response = await _answer(self, request)
            span.set_attribute(t.HTTP_STATUS, response.status_code)
            return response

    async def _answer(self: Gateway, request: Request) -> Response:
        try:
            return await handler(self, request)
        except ApiError as error:
            return error_response(error)
        except httpx.HTTPError as exc:
            return error_response(errors.from_transport(exc))
        except Exception:
            log.exception("unhandled error in %s", handler.__name__)
            return error_response(
                ApiError(500, "The router failed unexpectedly.", type="server_error")
            )

    return run


class Gateway:
    def __init__(
        self,
        settings: Settings,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self.settings = settings
        self.client = FoundryClient(make_auth(settings), settings.connect_timeout_s)
        self.instruments = t.Instruments(meter_provider)
        self.tracer = t.tracer(tracer_provider)
        self.deployment_health = HealthBook(
            {tier.name: tier.tpm for tier in settings.tiers},
            BreakerPolicy(settings.breaker_failures, settings.breaker_cooldown_s),
        )
        self.resilience = Resilience(
            settings, self.deployment_health, RetryPolicy.from_settings(settings)
        )
        self.attempts = Attempts(settings, self.client, self.instruments, self.tracer)
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

    @classmethod
    def from_env(cls) -> Gateway:
        return cls(load_settings())

    # ---- endpoints -------------------------------------------------------------------------

    @guarded
    async def chat(self, request: Request) -> Response:
        chat, body = parse_chat_request(await self._read_body(request))
        decision = await self._decide(chat, body, request.headers.get(SESSION_HEADER))
        first = self.settings.tier(decision.tier)
        deadline = time.monotonic() + self.settings.request_timeout_s
        if chat.stream:
            # Always ask for usage upstream: the cost is ours to account, even if not shown.
            body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
            started = await self.resilience.call(first, body, deadline, self.attempts.stream)
            include_usage = bool(chat.stream_options and chat.stream_options.include_usage)
            return StreamingResponse(
                relay(started.result, started.tier, include_usage, self._count_usage),
                media_type="text/event-stream",
                headers={
                    **answer_headers(decision, started.tier, started.changes),
                    "cache-control": "no-cache",
                },
            )
        answered = await self.resilience.call(first, body, deadline, self.attempts.complete)
        tier, answer = answered.tier, answered.result.body
        answer["model"] = tier.deployment
        cost = cost_usd(tier, answer.get("usage"))
        self.instruments.cost.add(cost, {t.TIER: tier.name})
        headers = answer_headers(decision, tier, answered.changes)
        headers["x-router-cost-usd"] = f"{cost:.8f}"
        return JsonResponse(answer, headers=headers)

    async def _decide(
        self, chat: ChatRequest, body: dict[str, Any], session_header: str | None
    ) -> Decision:
        session = session_header or chat.user
        with self.tracer.start_as_current_span("router.decide") as span:
            decision = await self.policy.decide(
                chat.model, body["messages"], body.get("tools"), session, chat_needs(body)
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
        return decision

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
        return JsonResponse(
            {
                "object": "list",
                "data": [
                    {"id": name, "object": "model", "created": 0, "owned_by": "hybrid-router"}
                    for name in names
                ],
            }
        )

    @guarded
    async def health(self, request: Request) -> Response:
        return JsonResponse(
            {
                "status": "ok",
                **self.settings.summary(),
                "deployments": self.deployment_health.snapshot(),
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
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise body_too_large(limit)
            chunks.append(chunk)
        return b"".join(chunks)

    async def _ask(self, tier: Tier, body: dict[str, Any]) -> str:
        """The classifier's call: one attempt (span, tokens and cost like any other), never to a
        throttled or broken tier; any failure means the safe default."""
        if self.deployment_health.blocked(tier.name) is not None:
            raise ApiError(503, "classifier tier unavailable", type="api_error")
        deadline = time.monotonic() + self.settings.classifier_timeout_s
        reply = await self.attempts.complete(
            tier, shape_for_tier(body, tier).body, 1, 0.0, deadline
        )
        self.instruments.cost.add(cost_usd(tier, reply.body.get("usage")), {t.TIER: tier.name})
        choices = reply.body.get("choices") or [{}]
        return content_text((choices[0].get("message") or {}).get("content"))

    def _count_usage(self, tier: Tier, usage: dict[str, Any], cost: float) -> None:
        self.instruments.cost.add(cost, {t.TIER: tier.name})
        self.attempts.record_usage(tier, usage)

    async def aclose(self) -> None:
        await self.client.aclose()


def answer_headers(decision: Decision, tier: Tier, changes: tuple[str, ...]) -> dict[str, str]:
    """The x-router-* headers: who answered, and why that tier was chosen."""
    headers = {
        "x-router-tier": tier.name,
        "x-router-deployment": tier.deployment,
        "x-router-reason": decision.reason,
        "x-router-decided-by": decision.decided_by,
    }
    if decision.score is not None:
        headers["x-router-score"] = f"{decision.score:.3f}"
    if decision.classifier_ms is not None:
        headers["x-router-classifier-ms"] = f"{decision.classifier_ms:.1f}"
    if changes:
        headers["x-router-adjusted"] = "; ".join(changes)
    return headers


def body_too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"The request body is larger than the router's limit of {limit} bytes.",
        code="request_too_large",
    )
