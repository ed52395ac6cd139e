"""The control API for tests and benchmarks (no auth), plus identity, models and health."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devtools.emulator import auth, identity
from devtools.emulator.config import config_to_dict
from devtools.emulator.errors import ApiError
from devtools.emulator.faults import parse_fault
from devtools.emulator.state import EmulatorState


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "BadRequest", "message": message}}, status_code=400)


async def _json(request: Request) -> Any:
    raw = await request.body()
    return orjson.loads(raw) if raw.strip() else {}


def control_routes(state: EmulatorState) -> list[Route]:
    async def reset(request: Request) -> Response:
        state.reset()
        return JSONResponse({"status": "reset"})

    async def faults(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"faults": state.faults.list()})
        if request.method == "DELETE":
            removed = state.faults.clear(request.query_params.get("deployment"))
            return JSONResponse({"removed": removed})
        try:
            spec = await _json(request)
            # A list adds several faults in order, in one call.
            specs = spec if isinstance(spec, list) else [spec]
            added = [parse_fault(s, set(state.config.deployments)) for s in specs]
        except (ValueError, orjson.JSONDecodeError) as e:
            return _bad(str(e))
        for fault in added:
            state.faults.add(fault)
        result = [f.to_dict() for f in added]
        return JSONResponse(result if isinstance(spec, list) else result[0], status_code=201)

    async def fault_by_id(request: Request) -> Response:
        removed = state.faults.remove(int(request.path_params["fault_id"]))
        return JSONResponse({"removed": int(removed)}, status_code=200 if removed else 404)

    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            state.records.clear()
            return JSONResponse({"status": "cleared"})
        wanted = request.query_params.get("deployment")
        items = [r for r in state.records if wanted is None or r["deployment"] == wanted]
        return JSONResponse({"requests": items})

    async def stats(request: Request) -> Response:
        return JSONResponse(
            {
                "deployments": {name: s.to_dict() for name, s in state.stats.items()},
                "token_fetches": state.tokens.fetches,
                "token_requests": list(state.tokens.requests),
                "faults_pending": len(state.faults.list()),
            }
        )

    async def settings(request: Request) -> Response:
        if request.method == "POST":
            try:
                overrides = await _json(request)
                if not isinstance(overrides, dict):
                    raise ValueError("body must be a JSON object")
                state.update(overrides)
            except (ValueError, TypeError, orjson.JSONDecodeError) as e:
                return _bad(str(e))
        return JSONResponse(config_to_dict(state.config))

    return [
        Route("/control/reset", reset, methods=["POST"]),
        Route("/control/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/control/faults/{fault_id:int}", fault_by_id, methods=["DELETE"]),
        Route("/control/requests", requests, methods=["GET", "DELETE"]),
        Route("/control/stats", stats, methods=["GET"]),
        Route("/control/settings", settings, methods=["GET", "POST"]),
    ]


def service_routes(state: EmulatorState) -> list[Route]:
    async def msi_token(request: Request) -> Response:
        query = dict(request.query_params)
        problem = identity.check_request(
            query, request.headers.get("x-identity-header"), state.config.identity_header
        )
        if problem is not None:
            status, message = problem
            return JSONResponse({"statusCode": status, "message": message}, status_code=status)
        return JSONResponse(state.tokens.issue(query["resource"], query))

    async def models(request: Request) -> Response:
        api_key, bearer = auth.credentials(request.scope["headers"])
        try:
            auth.check(state, api_key, bearer, key_as_bearer=True)
        except ApiError as e:
            return Response(e.encoded(), status_code=e.status, media_type="application/json")
        data = [
            {"id": name, "object": "model", "created": 0, "owned_by": "emulator", "model": d.model}
            for name, d in state.config.deployments.items()
        ]
        return JSONResponse({"object": "list", "data": data})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return [
        Route("/msi/token", msi_token, methods=["GET"]),
        Route("/openai/v1/models", models, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
    ]
