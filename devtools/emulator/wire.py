"""Low-level ASGI helpers: read a body, send JSON, drop a connection the hard way."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON = b"application/json"
SSE = b"text/event-stream; charset=utf-8"


async def read_body(receive: Receive) -> bytes:
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body"):
        return body
    parts = [body]
    while message.get("more_body"):
        message = await receive()
        parts.append(message.get("body", b""))
    return b"".join(parts)


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
    content_type: bytes = JSON,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def trickle_bytes(
    send: Send, body: bytes, headers: list[tuple[bytes, bytes]], over_s: float, pieces: int = 20
) -> None:
    """A 200 JSON answer sent in `pieces` parts spread evenly over `over_s` seconds."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", JSON),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    size = -(-len(body) // pieces)
    for start in range(0, len(body), size):
        await asyncio.sleep(over_s / pieces)
        more = start + size < len(body)
        await send(
            {"type": "http.response.body", "body": body[start : start + size], "more_body": more}
        )


async def send_in_pieces(
    send: Send, body: bytes, headers: list[tuple[bytes, bytes]], piece: int = 64 * 1024
) -> None:
    """A 200 JSON answer in `piece`-sized writes with no content-length (chunked), as a
    proxy that streams a body it has not measured sends it."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", JSON), *headers],
        }
    )
    for start in range(0, len(body), piece):
        more = start + piece < len(body)
        await send(
            {"type": "http.response.body", "body": body[start : start + piece], "more_body": more}
        )


async def wait_disconnect(receive: Receive, max_s: float | None) -> bool:
    """Wait until the client goes away (the body must be read already); False on timeout."""

    async def until_gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(until_gone(), max_s)
    except TimeoutError:
        return False
    return True


def _transport(receive: Receive) -> asyncio.Transport | None:
    # uvicorn's receive is a bound method of its request cycle, which holds the transport;
    # ASGI offers no other way to reach the socket.
    cycle = getattr(receive, "__self__", None)
    return getattr(cycle, "transport", None)


async def reset_connection(receive: Receive) -> None:
    """Drop the connection with a TCP RST, no HTTP response: SO_LINGER 0, then abort."""
    transport = _transport(receive)
    if transport is None:
        raise RuntimeError("cannot reach the transport to reset the connection (not uvicorn?)")
    # Let bytes already written (e.g. stream chunks) leave before the RST discards them.
    for _ in range(200):
        if transport.is_closing() or not transport.get_write_buffer_size():
            break
        await asyncio.sleep(0.005)
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # uvicorn learns of the loss on the next loop turn; wait so it won't answer a 500 for us.
    await wait_disconnect(receive, 2.0)
