"""One attempt at one deployment: the call, what its outcome means, and its telemetry span.

An outcome is a result, a Retryable (worth another try or another deployment), a FailOver (only
another deployment can help) or an ApiError the caller caused (neither retried nor failed over).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from shared import telemetry as t
from shared.api import ApiError
from shared.settings import Settings, Tier
from shared.upstream import errors
from shared.upstream.client import FoundryClient, UpstreamReply, json_object, sse_data
from shared.upstream.models import token_usage
from shared.upstream.resilience import RETRY_STATUSES, FailOver, Retryable, upstream_wait_s
from shared.upstream.urls import Api


def outcome_error(status: int, body: dict[str, Any], headers: Mapping[str, str]) -> Exception:
    """Turn a non-2xx answer into the exception that says what to do next."""
    error = errors.from_status(status, body, headers)
    if status in RETRY_STATUSES:
        return Retryable(error, upstream_wait_s(headers), fault=status != 429)
    if status in (401, 403):
        return FailOver(error)  # another account or region may accept our identity
    if error.code == "context_length_exceeded":
        return FailOver(error, needs_larger_context=True)
    return error


USAGE_ATTRIBUTES = ((t.INPUT_TOKENS, "prompt_tokens"), (t.OUTPUT_TOKENS, "completion_tokens"))


@functools.cache
def server_address(endpoint: str) -> str:
    # Parsing the URL costs ~20-50 us; it ran on every attempt for the span attribute.
    return httpx.URL(endpoint).host


def transport_error(exc: httpx.HTTPError) -> Retryable:
    return Retryable(errors.from_transport(exc))


@dataclass
class StreamStart:
    """A stream whose first event has arrived: from here on, bytes go to the caller."""

    response: httpx.Response
    events: AsyncIterator[str]
    first: str

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers


class Attempts:
    def __init__(
        self,
        settings: Settings,
        client: FoundryClient,
        instruments: t.Instruments,
        tracer: Tracer,
    ) -> None:
        self.settings = settings
        self.client = client
        self.instruments = instruments
        self.tracer = tracer
        self.capture_content = t.capture_content()  # prompt text only when asked for

    def _span_attributes(
        self, tier: Tier, body: dict[str, Any], number: int, waited: float
    ) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            t.OPERATION: "chat",
            t.PROVIDER: t.PROVIDER_NAME,
            t.REQUEST_MODEL: tier.deployment,
            t.SERVER_ADDRESS: server_address(tier.endpoint),
            t.TIER: tier.name,
            t.ATTEMPT: number,
            t.WAIT_BEFORE_S: round(waited, 3),
        }
        for key, name in (
            (t.REQUEST_TEMPERATURE, "temperature"),
            (t.REQUEST_TOP_P, "top_p"),
            (t.REQUEST_MAX_TOKENS, "max_tokens"),
            (t.REQUEST_MAX_TOKENS, "max_completion_tokens"),
        ):
            if isinstance(body.get(name), int | float):
                attributes[key] = body[name]
        return attributes

    def _record(self, tier: Tier, started: float, status: int | None, error: str | None) -> None:
        attributes = {
            t.OPERATION: "chat",
            t.PROVIDER: t.PROVIDER_NAME,
            t.REQUEST_MODEL: tier.deployment,
        }
        if error:
            attributes[t.ERROR_TYPE] = error
        self.instruments.operation_duration.record(time.perf_counter() - started, attributes)
        if status == 429:
            self.instruments.throttled.add(1, {t.DEPLOYMENT: tier.deployment})

    def record_usage(self, tier: Tier, usage: dict[str, Any] | None) -> None:
        if not usage:
            return
        base = {t.OPERATION: "chat", t.PROVIDER: t.PROVIDER_NAME, t.REQUEST_MODEL: tier.deployment}
        for kind, key in (("input", "prompt_tokens"), ("output", "completion_tokens")):
            if isinstance(usage.get(key), int):
                self.instruments.token_usage.record(usage[key], {**base, t.TOKEN_TYPE: kind})

    async def complete(
        self,
        tier: Tier,
        body: dict[str, Any],
        number: int,
        waited: float,
        deadline: float,
        api: Api = "chat",
    ) -> UpstreamReply:
        """A JSON completion."""
        timeout = _within(deadline, self.settings.attempt_timeout_s)
        started = time.perf_counter()
        with self._span(tier, body, number, waited) as span:
            try:
                reply = await self.client.complete(tier, body, timeout, api)
            except httpx.HTTPError as exc:
                self._fail(span, tier, started, None, errors.failure_name(exc))
                raise transport_error(exc) from None
            span.set_attribute(t.HTTP_STATUS, reply.status)
            if reply.status >= 400:
                self._fail(span, tier, started, reply.status, str(reply.status))
                raise outcome_error(reply.status, reply.body, reply.headers)
            usage = token_usage(reply.body.get("usage"))  # either API's names
            span.set_attribute(t.RESPONSE_MODEL, str(reply.body.get("model", "")))
            if self.capture_content:
                span.set_attribute(t.INPUT_MESSAGES, orjson.dumps(body.get("messages")).decode())
                choices = [c.get("message") for c in reply.body.get("choices") or []]
                span.set_attribute(t.OUTPUT_MESSAGES, orjson.dumps(choices).decode())
            for key, name in USAGE_ATTRIBUTES:
                if isinstance(usage.get(name), int):
                    span.set_attribute(key, usage[name])
            self._record(tier, started, reply.status, None)
            self.record_usage(tier, usage)
            return reply

    def _span(
        self, tier: Tier, body: dict[str, Any], number: int, waited: float
    ) -> AbstractContextManager[Span]:
        """One CLIENT span per attempt; retries and failovers become siblings."""
        return self.tracer.start_as_current_span(
            f"chat {tier.deployment}",
            kind=SpanKind.CLIENT,
            attributes=self._span_attributes(tier, body, number, waited),
        )

    def _fail(self, span: Any, tier: Tier, started: float, status: int | None, error: str) -> None:
        span.set_attribute(t.ERROR_TYPE, error)
        span.set_status(Status(StatusCode.ERROR))
        self._record(tier, started, status, error)

    async def stream(
        self,
        tier: Tier,
        body: dict[str, Any],
        number: int,
        waited: float,
        deadline: float,
        api: Api = "chat",
    ) -> StreamStart:
        """Open a stream and wait for its first event; until then failing over is free."""
        limit = _within(deadline, self.settings.first_token_timeout_s)
        started = time.perf_counter()
        with self._span(tier, body, number, waited) as span:
            response: httpx.Response | None = None
            try:
                async with asyncio.timeout(limit):
                    response = await self.client.open_stream(
                        tier, body, self.settings.stream_idle_timeout_s, api
                    )
                    status = response.status_code
                    span.set_attribute(t.HTTP_STATUS, status)
                    if status >= 400:
                        self._fail(span, tier, started, status, str(status))
                        raise outcome_error(status, json_object(response.content), response.headers)
                    events = sse_data(response.aiter_lines())
                    first = await anext(events)
            except TimeoutError:
                await _close(response)
                self._fail(span, tier, started, None, "first_token_timeout")
                raise Retryable(
                    ApiError(
                        504,
                        f"The model deployment sent nothing within {limit:g} s.",
                        type="api_error",
                        code="timeout",
                    )
                ) from None
            except StopAsyncIteration:
                await _close(response)
                self._fail(span, tier, started, None, "empty_stream")
                raise Retryable(
                    ApiError(502, "The model deployment sent an empty stream.", type="api_error")
                ) from None
            except httpx.HTTPError as exc:
                await _close(response)
                self._fail(span, tier, started, None, errors.failure_name(exc))
                raise transport_error(exc) from None
            self._record(tier, started, response.status_code, None)
            return StreamStart(response, events, first)


def _within(deadline: float, limit_s: float) -> float:
    """An attempt's time limit: its own, or what is left of the request's budget."""
    return min(limit_s, max(0.01, deadline - time.monotonic()))


async def _close(response: httpx.Response | None) -> None:
    if response is not None:
        await response.aclose()
