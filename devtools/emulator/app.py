"""Assemble the emulator's Starlette app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devtools.emulator.chat import ChatEndpoint
from devtools.emulator.config import EmulatorConfig
from devtools.emulator.control import control_routes, service_routes
from devtools.emulator.responses import ResponsesApi
from devtools.emulator.state import EmulatorState


async def _not_found(request: Request, exc: Exception) -> Response:
    # Azure answers unknown paths with JSON, not Starlette's plain text.
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    message = "Resource not found" if status == 404 else "Method not allowed"
    body = b'{"error":{"code":"%d","message":"%s"}}' % (status, message.encode())
    return Response(body, status_code=status, media_type="application/json")


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """The Foundry emulator as an ASGI app; its state lives on `app.state.emulator`."""
    state = EmulatorState(config or EmulatorConfig())
    routes = [
        # Class instances are mounted as plain ASGI apps: no Request/Response objects per call.
        Route(
            "/openai/v1/chat/completions",
            ChatEndpoint(state, route="v1"),
            methods=["POST"],
        ),
        Route(
            "/openai/deployments/{deployment}/chat/completions",
            ChatEndpoint(state, route="deployments"),
            methods=["POST"],
        ),
        Route("/models/chat/completions", ChatEndpoint(state, route="models"), methods=["POST"]),
        *ResponsesApi(state).routes(),
        *service_routes(state),
        *control_routes(state),
    ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_found})
    app.state.emulator = state
    return app
