"""An upstream event stream, each event decoded once as it comes back: shown to the attempt's
span, its usage metered, then handed on (to the relay that writes the caller's stream)."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from shared import telemetry as t
from shared.upstream.usage import Usage

Meter = Callable[[dict[str, Any]], Usage | None]  # a stream event's usage, recorded


@dataclass(frozen=True, slots=True)
class Event:
    """One server-sent event's data: a JSON object, the [DONE] sentinel, or neither."""

    data: dict[str, Any] | None  # None: [DONE], or not a JSON object (a malformed event)
    done: bool = False

    @property
    def malformed(self) -> bool:
        return self.data is None and not self.done


DONE = Event(None, done=True)
MALFORMED = Event(None)


def decode(raw: str) -> Event:
    if raw == "[DONE]":
        return DONE
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return MALFORMED
    return Event(data) if isinstance(data, dict) else MALFORMED


class ChunkTimes:
    """gen_ai.client.operation.time_per_output_chunk as the GenAI semantic conventions define it:
    for each chunk after the first, the time from the end of the one before to the end of it."""

    __slots__ = ("_last", "_record")

    def __init__(self, record: Callable[[float], object]) -> None:
        self._record = record
        self._last: float | None = None

    def chunk(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self._record(now - self._last)
        self._last = now


def show(
    event: Event, record: t.StreamRecord, meter: Meter, times: ChunkTimes | None = None
) -> None:
    """One event to the attempt's span, its usage (if it carries it) metered first; a chunk (a
    JSON event, not [DONE] nor a malformed one) timed."""
    if event.data is not None:
        if times is not None:
            times.chunk()
        usage = meter(event.data)
        if usage is not None:
            record.usage = usage
    record.see(event)


async def observed(
    first: Event,
    rest: AsyncIterator[str],
    record: t.StreamRecord,
    meter: Meter,
    times: ChunkTimes | None = None,
) -> AsyncGenerator[Event, None]:
    """The stream's events, `first` (already shown) then the rest as they come, each decoded
    once and shown; `record` ends the attempt's span when the stream ends: at its end, on a
    break (error.type: the failure), or when the reader stops (after the answer; or before it:
    the caller left, or the relay gave up on a malformed event)."""
    error: str | None = None
    try:
        yield first
        async for raw in rest:
            event = decode(raw)
            show(event, record, meter, times)
            yield event
        if not record.whole:
            error = "malformed_chunk" if record.malformed else "incomplete_stream"
    except GeneratorExit:
        raise
    except BaseException as exc:  # a cut or stall: the transport's name for it
        error = str(getattr(exc, "failure", "") or type(exc).__name__)
        raise
    finally:
        record.end(error)
