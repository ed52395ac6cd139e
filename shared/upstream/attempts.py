"""One attempt at one deployment: the call within its deadline, its telemetry span, and the
outcome in the terms of `outcomes.py` (an answer, or an AttemptFailed saying what it means).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Tracer

from shared import oplog
from shared import telemetry as t
from shared.settings import Tier
from shared.upstream import outcomes
from shared.upstream.apis import UpstreamApi
from shared.upstream.bounds import answer_limit_bytes, answer_wait_s, body_wait_s
from shared.upstream.client import FoundryClient, TransportError, UpstreamStream, json_object
from shared.upstream.outcomes import AttemptFailed
from shared.upstream.stream import ChunkTimes, Event, decode, observed, show
from shared.upstream.urls import target
from shared.upstream.usage import Meter, Usage, read_usage


@dataclass(frozen=True, slots=True)
class AttemptInfo:
    number: int  # 1 for the first try on this deployment
    waited_s: float  # the pause just before it
    deadline: float  # the request's budget ends here (time.monotonic)


@dataclass(frozen=True, slots=True)
class Answer:
    """A valid 2xx JSON answer."""

    status: int
    headers: Mapping[str, str]
    body: dict[str, Any]
    usage: Usage | None
    cost: float  # list price, recorded


@dataclass
class StreamStart:
    """A stream whose first event has arrived: from here on, bytes go to the caller."""

    stream: UpstreamStream
    events: AsyncGenerator[Event, None]  # stream.observed: closing it ends the attempt's span
    record: t.StreamRecord

    @property
    def headers(self) -> Mapping[str, str]:
        return self.stream.headers

    async def aclose(self) -> None:
        await self.events.aclose()
        self.record.end()  # if the events were never read past the first
        await self.stream.aclose()


# The least time an attempt is given: with less of the request's budget left, none starts.
# It also absorbs timers that fire up to a millisecond early (uvloop's are millisecond-grained),
# so that an attempt cut at the deadline does not leave time for another to start.
MIN_ATTEMPT_S = 0.01


def within(deadline: float, limit_s: float) -> float:
    """An attempt's time limit: its own, or what is left of the request's budget."""
    return min(limit_s, max(MIN_ATTEMPT_S, deadline - time.monotonic()))


class Attempts:
    def __init__(
        self,
        client: FoundryClient,
        instruments: t.Instruments,
        tracer: Tracer,
        stream_idle_timeout_s: float,
        stream_max_s: float,
        max_answer_bytes: int | None = None,
    ) -> None:
        self.client = client
        self.instruments = instruments
        self.meter = Meter(instruments)
        self.tracer = tracer
        self.stream_idle_timeout_s = stream_idle_timeout_s
        self.stream_max_s = stream_max_s  # a stream's whole length, from its headers
        self.max_answer_bytes = max_answer_bytes  # a cap below what a tier can write
        self.capture_content = t.capture_content()  # prompt text only when asked for

    # ---- telemetry -------------------------------------------------------------------------

    def _span(
        self, api: UpstreamApi, tier: Tier, body: dict[str, Any], info: AttemptInfo
    ) -> AbstractContextManager[Span]:
        """One CLIENT span per attempt; retries and failovers become siblings."""
        return t.attempt_span(
            self.tracer,
            f"{api.operation} {tier.deployment}",
            self._span_attributes(api, tier, body, info),
        )

    def _span_attributes(
        self, api: UpstreamApi, tier: Tier, body: dict[str, Any], info: AttemptInfo
    ) -> dict[str, Any]:
        return {
            **t.attempt_attributes(
                target(tier, api.name).url,
                tier.deployment,
                body,
                api.operation,
                t.provider_for(tier.url_shape),
            ),
            t.TIER: tier.name,
            t.ATTEMPT: info.number,
            t.WAIT_BEFORE_S: round(info.waited_s, 3),
        }

    def _record(
        self, api: UpstreamApi, tier: Tier, started: float, status: int | None, error: str | None
    ) -> None:
        """gen_ai.client.operation.duration of a whole call (a stream's when it ends)."""
        attributes = t.metric_attributes(api.operation, tier.deployment, tier.url_shape)
        if error:
            attributes[t.ERROR_TYPE] = error
        self.instruments.operation_duration.record(time.perf_counter() - started, attributes)
        if status == 429:
            self.instruments.throttled.add(1, {t.DEPLOYMENT: tier.deployment})

    def _failed(
        self,
        span: Span,
        api: UpstreamApi,
        tier: Tier,
        started: float,
        status: int | None,
        error_type: str,
        failure: AttemptFailed,
        end: bool = False,
    ) -> AttemptFailed:
        t.attempt_failed(span, error_type, status)
        self._record(api, tier, started, status, error_type)
        if failure.auth:
            oplog.upstream_auth_failed(tier.name, tier.deployment, status)
        if end:  # a stream's span, which no `with` ends
            span.end()
        return failure

    # ---- the two kinds of attempt ----------------------------------------------------------

    async def complete(
        self, api: UpstreamApi, tier: Tier, body: dict[str, Any], info: AttemptInfo
    ) -> Answer:
        """A JSON answer: its headers within the time the model needs to write what was asked
        for, then the body within the tier's base limit (bounds.py)."""
        limit = within(info.deadline, answer_wait_s(tier, body))
        body_limit = body_wait_s(tier)
        max_bytes = answer_limit_bytes(tier, body, self.max_answer_bytes)
        started = time.perf_counter()
        with self._span(api, tier, body, info) as span:
            try:
                reply = await self.client.complete(
                    tier,
                    api.name,
                    body,
                    limit,
                    body_timeout_s=body_limit,
                    deadline=info.deadline,
                    max_bytes=max_bytes,
                )
            except TransportError as exc:
                if exc.failure == "answer_too_large":
                    failure = outcomes.too_large(max_bytes)
                elif exc.failure == "body_timeout":
                    failure = outcomes.timed_out(
                        f"sent its answer's headers but not its body within {body_limit:g} s"
                    )
                elif exc.timed_out:
                    failure = outcomes.timed_out(f"did not answer within {limit:g} s")
                else:
                    failure = outcomes.unreachable(exc.failure)
                raise self._failed(span, api, tier, started, None, exc.failure, failure) from None
            span.set_attribute(t.HTTP_STATUS, reply.status)
            if reply.status >= 400:
                sent_back = reply.body or _text_error(reply.raw)
                failure = outcomes.from_status(reply.status, sent_back, reply.headers, body)
                error_type = str(reply.status)
                raise self._failed(span, api, tier, started, reply.status, error_type, failure)
            answer = reply.body
            problem = invalid(api, reply.status, answer)
            if problem is not None or answer is None:
                failure = outcomes.invalid_reply(reply.status, problem or "no body")
                raise self._failed(span, api, tier, started, reply.status, "invalid_reply", failure)
            usage = read_usage(api, answer.get("usage"))
            t.attempt_answered(span, reply.status, answer, usage)
            if self.capture_content:
                t.record_content(span, body, answer)
            self._record(api, tier, started, reply.status, None)
            cost = self.meter.record(api, tier, usage)
            return Answer(reply.status, reply.headers, answer, usage, cost)

    async def stream(
        self, api: UpstreamApi, tier: Tier, body: dict[str, Any], info: AttemptInfo
    ) -> StreamStart:
        """Open a stream and wait for its first event; until then failing over is free."""
        limit = within(info.deadline, tier.first_token_limit_s)
        started = time.perf_counter()
        span = self.tracer.start_span(
            f"{api.operation} {tier.deployment}",
            kind=SpanKind.CLIENT,
            attributes=self._span_attributes(api, tier, body, info),
        )
        if self.capture_content:
            t.record_content(span, body)
        # Ended here on a failure, else when the stream ends (stream.observed, StreamStart.aclose).
        with trace.use_span(
            span, end_on_exit=False, record_exception=False, set_status_on_exception=False
        ):
            stream: UpstreamStream | None = None
            try:
                async with asyncio.timeout(limit):
                    stream = await self.client.open_stream(tier, api.name, body, limit)
                    span.set_attribute(t.HTTP_STATUS, stream.status)
                    if stream.status >= 300:
                        failure = (
                            outcomes.from_status(
                                stream.status, error_body(stream.raw), stream.headers, body
                            )
                            if stream.status >= 400
                            else outcomes.invalid_reply(stream.status, "a redirect")
                        )
                        raise self._failed(
                            span,
                            api,
                            tier,
                            started,
                            stream.status,
                            str(stream.status),
                            failure,
                            end=True,
                        )
                    events = stream.events(
                        self.stream_idle_timeout_s,
                        time.monotonic() + self.stream_max_s,
                        deadline_cause="stream_max_duration",
                    )
                    first = await anext(events)
            except (TimeoutError, TransportError) as exc:
                await _close(stream)
                if isinstance(exc, TransportError) and not exc.timed_out:
                    failure, name = outcomes.unreachable(exc.failure), exc.failure
                else:
                    failure = outcomes.timed_out(f"sent nothing within {limit:g} s")
                    name = "first_token_timeout"
                raise self._failed(
                    span, api, tier, started, None, name, failure, end=True
                ) from None
            except StopAsyncIteration:
                await _close(stream)
                failure = outcomes.empty_stream()
                raise self._failed(
                    span, api, tier, started, None, "empty_stream", failure, end=True
                ) from None
            except BaseException:
                await _close(stream)
                span.end()
                raise
            attributes = t.metric_attributes(api.operation, tier.deployment, tier.url_shape)
            self.instruments.time_to_first_chunk.record(time.perf_counter() - started, attributes)
            times = ChunkTimes(
                partial(self.instruments.time_per_output_chunk.record, attributes=attributes)
            )
            status = stream.status
            record = t.StreamRecord(
                span,
                self.capture_content,
                on_end=lambda error: self._record(api, tier, started, status, error),
            )
            meter = partial(self.meter.event, api, tier)
            shown = decode(first)
            show(shown, record, meter, times)
            return StreamStart(stream, observed(shown, events, record, meter, times), record)


def invalid(api: UpstreamApi, status: int, body: dict[str, Any] | None) -> str | None:
    """Why a 2xx/3xx reply is not an answer of `api`, or None when it is one."""
    if not 200 <= status < 300:
        return "a redirect"
    if body is None:
        return "a body that is not a JSON object"
    return api.problem(body)


def error_body(raw: bytes) -> dict[str, Any]:
    return json_object(raw) or _text_error(raw)


def _text_error(raw: bytes) -> dict[str, Any]:
    """A non-JSON error body (a proxy's page): its start, as the message."""
    return {"error": {"message": raw[:200].decode("utf-8", "replace")}} if raw else {}


async def _close(stream: UpstreamStream | None) -> None:
    if stream is not None:
        await stream.aclose()
