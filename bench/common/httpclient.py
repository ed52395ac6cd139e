"""A minimal keep-alive HTTP/1.1 client on asyncio streams that accounts for every request.

For load tests that must tell an answer from a clean error, a loss or a hang: each call ends
in exactly one Outcome. Cheaper per request than httpx, so the client is not the bottleneck.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Outcome:
    # "answer", "error" (clean: a status and an OpenAI error envelope), "unclean", "lost", "hung"
    kind: str
    status: int | None
    seconds: float


class Connection:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def post(self, body: bytes, timeout_s: float) -> Outcome:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout_s):
                status, keep_alive, payload = await self._exchange(body)
        except TimeoutError:
            await self.close()
            return Outcome("hung", None, time.perf_counter() - started)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            await self.close()
            return Outcome("lost", None, time.perf_counter() - started)
        if not keep_alive:
            await self.close()
        elapsed = time.perf_counter() - started
        if 200 <= status < 300:
            return Outcome("answer", status, elapsed)
        clean = payload.startswith(b'{"error":') or b'"error": {' in payload[:20]
        return Outcome("error" if clean else "unclean", status, elapsed)

    async def _exchange(self, body: bytes) -> tuple[int, bool, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            b"POST %s HTTP/1.1\r\nhost: %s:%d\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n%s"
            % (self.path.encode(), self.host.encode(), self.port, len(body), body)
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "content-length" not in headers:
            raise ValueError("no content-length")  # the router never streams a JSON answer
        payload = await self.reader.readexactly(int(headers["content-length"]))
        return status, headers.get("connection", "").lower() != "close", payload
