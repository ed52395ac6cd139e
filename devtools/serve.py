"""Serve an ASGI app and announce the bound port: for the local host, the emulator and tests."""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

import uvicorn

READY_PREFIX = "listening on "


def bind(host: str, port: int) -> socket.socket:
    """Bind before serving so that port 0 yields a real port we can announce."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve(app: Any, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> None:
    """Run `app` until interrupted; print `listening on http://host:port` once bound."""
    sock = bind(host, port)
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        loop="auto",
        http="auto",
        timeout_keep_alive=30,
        # Loopback only, nothing in front: skip the per-request X-Forwarded-* middleware.
        proxy_headers=False,
    )
    server = uvicorn.Server(config)

    async def run() -> None:
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        # uvicorn exposes only a `started` flag, no event to await.
        while not server.started and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        print(f"{READY_PREFIX}http://{host}:{bound_port}", flush=True)
        await serving

    # uvloop when installed: the same choice uvicorn makes for `loop="auto"`.
    try:
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
            runner.run(run())
    except KeyboardInterrupt:
        pass
    sys.exit(0)
