"""A minimal, fast fake OpenAI upstream: one canned chat completion, after an optional delay.

Raw asyncio protocol with httptools on uvloop, no framework, so that it is never the
bottleneck of a gateway benchmark. Answers every request (any method, any path) with the same
JSON body; keep-alive as the client asks.

Run: python -m bench.common.fake_upstream --port 0 [--delay-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket

import httptools
import orjson
import uvloop

BODY = orjson.dumps(
    {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "fake-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello! How can I help you today?"},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 8, "completion_tokens": 9, "total_tokens": 17},
    }
)
HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n" % len(BODY)
KEEP_ALIVE = HEAD + b"\r\n" + BODY
CLOSE = HEAD + b"connection: close\r\n\r\n" + BODY


class Connection(asyncio.Protocol):
    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is duck-typed

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    def on_message_complete(self) -> None:
        keep_alive = self.parser.should_keep_alive()
        if self.delay_s:
            asyncio.get_running_loop().call_later(self.delay_s, self.respond, keep_alive)
        else:
            self.respond(keep_alive)

    def respond(self, keep_alive: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(KEEP_ALIVE if keep_alive else CLOSE)
        if not keep_alive:
            transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(host: str, port: int, delay_s: float) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = await asyncio.get_running_loop().create_server(
        lambda: Connection(delay_s), sock=sock, backlog=2048
    )
    # Same announcement as devtools.serve, so devtools.process.start_server can start it.
    print(f"listening on http://{host}:{sock.getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(serve(args.host, args.port, args.delay_ms / 1000))


if __name__ == "__main__":
    main()
