"""One attempt at one deployment: the call, what its outcome means, and its telemetry span.

An outcome is a result, a Retryable (worth another try or another deployment), a FailOver (only
another deployment can help) or an ApiError the caller caused (neither retried nor failed over).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Tracer

from shared import telemetry as t
from shared.api import ApiError
from shared.settings import Settings, Tier
from shared.upstream import errors
from shared.upstream.client import FoundryClient, UpstreamReply, json_object, sse_data
from shared.upstream.resilience import RETRY_STATUSES, FailOver, Retryable, upstream_wait_s
from shared.upstream.urls import target


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


def transport_error(exc: httpx.HTTPError) -> Retryable:
    return Retryable(errors.from_transport(exc))


@dataclass
class StreamStart:
    """A stream whose first event has arrived: from here on, bytes go to the caller."""

    response: httpx.Response
    events: AsyncGenerator[str, None]  # t.observed: closing it ends the attempt's span
    first: str
    record: t.StreamRecord

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    async def aclose(self) -> None:
        await self.events.aclose()
        self.record.end()  # if the events were never read past the first
        await self.response.aclose()


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
        return {
            **t.attempt_attributes(target(tier).url, tier.deployment, body),
            t.TIER: tier.name,
            t.ATTEMPT: number,
            t.WAIT_BEFORE_S: round(waited, 3),
        }

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
        self, tier: Tier, body: dict[str, Any], number: int, waited: float, deadline: float
    ) -> UpstreamReply:
        """A JSON completion."""
        timeout = _within(deadline, self.settings.attempt_timeout_s)
        started = time.perf_counter()
        with self._span(tier, body, number, waited) as span:
            try:
                reply = await self.client.complete(tier, body, timeout)
            except httpx.HTTPError as exc:
                self._fail(span, tier, started, None, errors.failure_name(exc))
                raise transport_error(exc) from None
            if reply.status >= 400:
                self._fail(span, tier, started, reply.status, str(reply.status))
                raise outcome_error(reply.status, reply.body, reply.headers)
            usage = reply.body.get("usage") or {}
            t.attempt_answered(span, reply.status, reply.body)
            if self.capture_content:
                t.record_content(span, body, reply.body)
            self._record(tier, started, reply.status, None)
            self.record_usage(tier, usage)
            return reply

    def _span(
        self, tier: Tier, body: dict[str, Any], number: int, waited: float
    ) -> AbstractContextManager[Span]:
        """One CLIENT span per attempt; retries and failovers become siblings."""
        return t.attempt_span(
            self.tracer,
            f"chat {tier.deployment}",
            self._span_attributes(tier, body, number, waited),
        )

    def _fail(self, span: Any, tier: Tier, started: float, status: int | None, error: str) -> None:
        t.attempt_failed(span, error, status)
        self._record(tier, started, status, error)

    async def stream(
        self, tier: Tier, body: dict[str, Any], number: int, waited: float, deadline: float
    ) -> StreamStart:
        """Open a stream and wait for its first event; until then failing over is free."""
        limit = _within(deadline, self.settings.first_token_timeout_s)
        started = time.perf_counter()
        span = self.tracer.start_span(
            f"chat {tier.deployment}",
            kind=SpanKind.CLIENT,
            attributes=self._span_attributes(tier, body, number, waited),
        )
        if self.capture_content:
            t.record_content(span, body)
        # Ended here on a failure; otherwise when the stream ends (StreamRecord.end, the relay).
        with trace.use_span(
            span, end_on_exit=False, record_exception=False, set_status_on_exception=False
        ):
            response: httpx.Response | None = None
            try:
                async with asyncio.timeout(limit):
                    response = await self.client.open_stream(
                        tier, body, self.settings.stream_idle_timeout_s
                    )
                    status = response.status_code
                    span.set_attribute(t.HTTP_STATUS, status)
                    if status >= 400:
                        self._fail(span, tier, started, status, str(status))
                        span.end()
                        raise outcome_error(status, json_object(response.content), response.headers)
                    events = sse_data(response.aiter_lines())
                    first = await anext(events)
            except TimeoutError:
                await _close(response)
                self._fail(span, tier, started, None, "first_token_timeout")
                span.end()
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
                span.end()
                raise Retryable(
                    ApiError(502, "The model deployment sent an empty stream.", type="api_error")
                ) from None
            except httpx.HTTPError as exc:
                await _close(response)
                self._fail(span, tier, started, None, errors.failure_name(exc))
                span.end()
                raise transport_error(exc) from None
            self._record(tier, started, response.status_code, None)
            record = t.StreamRecord(span, self.capture_content)
            record.see(first)
            return StreamStart(response, t.observed(events, record), first, record)


def _within(deadline: float, limit_s: float) -> float:
    """An attempt's time limit: its own, or what is left of the request's budget."""
    return min(limit_s, max(0.01, deadline - time.monotonic()))


async def _close(response: httpx.Response | None) -> None:
    if response is not None:
        await response.aclose()
