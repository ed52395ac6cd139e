"""Assemble the emulator's Starlette app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from devtools.emulator.chat import ChatEndpoint
from devtools.emulator.config import EmulatorConfig
from devtools.emulator.control import control_routes, service_routes
from devtools.emulator.state import EmulatorState


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """The Foundry emulator as an ASGI app; its state lives on `app.state.emulator`."""
    state = EmulatorState(config or EmulatorConfig())
    routes = [
        # Class instances are mounted as plain ASGI apps: no Request/Response objects per call.
        Route(
            "/openai/v1/chat/completions",
            ChatEndpoint(state, deployment_in_path=False),
            methods=["POST"],
        ),
        Route(
            "/openai/deployments/{deployment}/chat/completions",
            ChatEndpoint(state, deployment_in_path=True),
            methods=["POST"],
        ),
        *service_routes(state),
        *control_routes(state),
    ]
    app = Starlette(routes=routes)
    app.state.emulator = state
    return app
