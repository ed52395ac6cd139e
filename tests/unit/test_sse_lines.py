"""The stream reader's framing: lines however the bytes are chunked, then SSE data per event."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.upstream.client import TransportError, lines_of, sse_data

STREAM = (
    b": keep-alive comment\r\n"
    b'data: {"a": 1}\r\n\r\n'
    b"event: response.output_text.delta\n"
    b'data: {"b": "\xc3\xa9"}\n\n'
    b"data: line one\ndata: line two\n\n"
    b"data: [DONE]\n\n"
)
EVENTS = ['{"a": 1}', '{"b": "é"}', "line one\nline two", "[DONE]"]


async def chunked(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def collect(items: AsyncIterator[str]) -> list[str]:
    return [item async for item in items]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, len(STREAM)])
async def test_events_are_the_same_however_the_bytes_are_chunked(size: int) -> None:
    assert await collect(sse_data(lines_of(chunked(STREAM, size)))) == EVENTS


async def test_an_event_without_a_final_blank_line_still_counts() -> None:
    assert await collect(sse_data(lines_of(chunked(b"data: last", 3)))) == ["last"]


async def test_a_line_longer_than_the_limit_is_a_transport_error() -> None:
    with pytest.raises(TransportError) as raised:
        await collect(lines_of(chunked(b"data: " + b"x" * 100, 10), limit=50))
    assert raised.value.failure == "event_too_large"
    assert not raised.value.timed_out
