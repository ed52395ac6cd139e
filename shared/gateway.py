"""One request end to end: parse, decide, shape, call, respond."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from shared import openapi
from shared.api import SSE_DONE, ApiError, content_text, parse_chat_request, sse_event
from shared.routing.cache import TtlCache
from shared.routing.classifier import Classifier, Label
from shared.routing.policy import AUTO, Decision, RoutingPolicy
from shared.settings import Settings, Tier, load_settings
from shared.upstream import errors
from shared.upstream.auth import make_auth
from shared.upstream.client import FoundryClient, json_object, sse_data
from shared.upstream.models import cost_usd, shape_for_tier

log = logging.getLogger("hybrid_router")
JSON = "application/json"


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
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = FoundryClient(make_auth(settings), settings.connect_timeout_s)
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
        )

    @classmethod
    def from_env(cls) -> Gateway:
        return cls(load_settings())

    # ---- endpoints -------------------------------------------------------------------------

    @guarded
    async def chat(self, request: Request) -> Response:
        chat, body = parse_chat_request(await self._read_body(request))
        decision = await self.policy.decide(chat.model, body["messages"], bool(chat.tools))
        tier = self.settings.tier(decision.tier)
        shaped = shape_for_tier(body, tier)
        headers = decision_headers(decision, tier)
        if shaped.changes:
            headers["x-router-adjusted"] = "; ".join(shaped.changes)
        if chat.stream:
            include_usage = bool(chat.stream_options and chat.stream_options.include_usage)
            # Always ask for usage upstream: the cost is ours to account, even if not shown.
            shaped.body["stream_options"] = {
                **(shaped.body.get("stream_options") or {}),
                "include_usage": True,
            }
            return await self._stream(tier, shaped.body, headers, include_usage)
        reply = await self.client.complete(tier, shaped.body, self.settings.request_timeout_s)
        if reply.status >= 400:
            raise errors.from_status(reply.status, reply.body, reply.headers)
        answer = reply.body
        answer["model"] = tier.deployment
        headers["x-router-cost-usd"] = f"{cost_usd(tier, answer.get('usage')):.8f}"
        return JsonResponse(answer, headers=headers)

    @guarded
    async def route(self, request: Request) -> Response:
        chat, body = parse_chat_request(await self._read_body(request))
        decision = await self.policy.decide(chat.model, body["messages"], bool(chat.tools))
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
            headers=decision_headers(decision, tier),
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
        return JsonResponse({"status": "ok", **self.settings.summary()})

    @guarded
    async def openapi(self, request: Request) -> Response:
        return JsonResponse(openapi.document())

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
        """The classifier's call: one short completion from the classifier tier."""
        reply = await self.client.complete(
            tier, shape_for_tier(body, tier).body, self.settings.classifier_timeout_s
        )
        if reply.status >= 400:
            raise errors.from_status(reply.status, reply.body, reply.headers)
        choices = reply.body.get("choices") or [{}]
        return content_text((choices[0].get("message") or {}).get("content"))

    async def _stream(
        self, tier: Tier, body: dict[str, Any], headers: dict[str, str], include_usage: bool
    ) -> Response:
        upstream = await self.client.open_stream(tier, body, self.settings.request_timeout_s)
        if upstream.status_code >= 400:
            raise errors.from_status(
                upstream.status_code, json_object(upstream.content), upstream.headers
            )
        headers["cache-control"] = "no-cache"
        return StreamingResponse(
            relay_stream(upstream, tier, include_usage),
            media_type="text/event-stream",
            headers=headers,
        )

    async def aclose(self) -> None:
        await self.client.aclose()


async def relay_stream(
    upstream: httpx.Response, tier: Tier, include_usage: bool
) -> AsyncIterator[bytes]:
    """Re-frame the upstream's SSE; end with [DONE] only when the answer is known to be whole."""
    finished = False
    try:
        async for data in sse_data(upstream.aiter_lines()):
            if data == "[DONE]":
                yield SSE_DONE
                return
            try:
                chunk = orjson.loads(data)
            except orjson.JSONDecodeError:
                yield stream_error("The model deployment sent a malformed chunk.")
                return
            chunk["model"] = tier.deployment
            choices = chunk.get("choices") or []
            finished = finished or any(c.get("finish_reason") for c in choices)
            if chunk.get("usage"):
                chunk["usage"]["cost_usd"] = round(cost_usd(tier, chunk["usage"]), 8)
                if not include_usage and not choices:
                    continue
            yield sse_event(chunk)
        if finished:  # a whole answer whose [DONE] was lost: still a whole answer
            yield SSE_DONE
        else:
            yield stream_error(
                "The model deployment ended the stream before the answer was complete."
            )
    except httpx.HTTPError as exc:
        yield stream_error(f"The model deployment stream failed ({type(exc).__name__}).")
    finally:
        await upstream.aclose()


def stream_error(message: str) -> bytes:
    """An in-band error event (the OpenAI SDK raises on it); no [DONE] follows."""
    return sse_event(ApiError(502, message, type="api_error", code="upstream_stream_error").body())


def decision_headers(decision: Decision, tier: Tier) -> dict[str, str]:
    headers = {
        "x-router-tier": decision.tier,
        "x-router-deployment": tier.deployment,
        "x-router-reason": decision.reason,
        "x-router-decided-by": decision.decided_by,
    }
    if decision.score is not None:
        headers["x-router-score"] = f"{decision.score:.3f}"
    if decision.classifier_ms is not None:
        headers["x-router-classifier-ms"] = f"{decision.classifier_ms:.1f}"
    return headers


def body_too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"The request body is larger than the router's limit of {limit} bytes.",
        code="request_too_large",
    )
