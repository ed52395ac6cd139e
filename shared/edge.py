"""The app's route table, for answering what no function matched: 404 for an unknown path, 405
(with Allow) for a known path asked with the wrong method, both in OpenAI's error envelope.

The Functions host tries routes in the alphabetical order of function names and skips a route
whose methods don't match (Azure/azure-functions-host#9876), so a catch-all function named to
sort last sees exactly the requests no other function took; devtools/localhost.py does the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from shared.api import ApiError

CATCH_ALL_FUNCTION = "zz_unmatched"  # sorts after every other function name
CATCH_ALL_ROUTE = "{*path}"
ROUTE_PREFIX = "/api/"  # host.json's default http.routePrefix


@dataclass(frozen=True, slots=True)
class Route:
    template: str
    methods: frozenset[str]
    pattern: re.Pattern[str]


def compile_template(template: str) -> re.Pattern[str]:
    """A Functions route template (`v1/models/{id}`, `{*rest}`) as a regex for the path after
    the prefix. Route constraints (`{id:int}`) are not used by this app."""
    out = []
    for part in re.split(r"(\{[^}]*\})", template.strip("/")):
        if part.startswith("{*"):
            out.append(".*")
        elif part.startswith("{"):
            out.append("[^/]+")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out), re.IGNORECASE)  # the host matches paths case-insensitively


class RouteTable:
    """Filled as function_app declares its routes (FunctionApp.get_functions() may be called
    only once, by the worker's indexing)."""

    def __init__(self, routes: Iterable[tuple[str, Iterable[str]]] = ()) -> None:
        self.routes: list[Route] = []
        for template, methods in routes:
            self.add(template, methods)

    def add(self, template: str, methods: Iterable[object]) -> None:
        if template != CATCH_ALL_ROUTE:
            names = frozenset(method_names(methods))
            self.routes.append(Route(template, names, compile_template(template)))

    def template(self, method: str, path: str) -> str | None:
        """The route template that serves `method path` (`/api/v1/responses/{response_id}`), for
        telemetry's http.route and span names: one name per route, not one per URL."""
        relative = path[len(ROUTE_PREFIX) :] if path.startswith(ROUTE_PREFIX) else path
        relative = relative.strip("/")
        for route in self.routes:
            if method in route.methods and route.pattern.fullmatch(relative):
                return ROUTE_PREFIX + route.template.strip("/")
        return None

    def allowed(self, path: str) -> frozenset[str]:
        """The methods some route accepts at `path` (a full URL path, /api/ included)."""
        relative = path[len(ROUTE_PREFIX) :] if path.startswith(ROUTE_PREFIX) else path
        relative = relative.strip("/")
        methods: set[str] = set()
        for route in self.routes:
            if route.pattern.fullmatch(relative):
                methods |= route.methods
        return frozenset(methods)

    def unmatched(self, method: str, path: str) -> ApiError:
        """Why nothing answered `method path`: the error to send."""
        allowed = self.allowed(path)
        if not allowed:
            return ApiError(
                404,
                f"Unknown request URL: {method} {path}. Please check the URL for typos.",
                code="unknown_url",
            )
        listed = ", ".join(sorted(allowed))
        return ApiError(
            405,
            f"Method {method} is not allowed for {path}; use {listed}.",
            code="method_not_allowed",
            headers={"allow": listed},
        )


def method_names(methods: Iterable[object] | None) -> list[str]:
    """HttpMethod members or strings as upper-case names; GET and POST when unset (the host's)."""
    if not methods:
        return ["GET", "POST"]
    return [str(getattr(m, "value", m)).upper() for m in methods]


_DEPLOYMENT_PATH = re.compile(r"/openai/deployments/([^/]+)/", re.IGNORECASE)


def deployment_in_path(path: str) -> str | None:
    """The deployment of an Azure OpenAI style path (`.../openai/deployments/{name}/...`)."""
    found = _DEPLOYMENT_PATH.search(path)
    return found.group(1) if found else None


def with_model(raw: bytes, model: str) -> bytes:
    """The body with `model` set from the URL, as Azure OpenAI takes the deployment from it.
    A body that is not a JSON object is left for the parser to reject with its own message."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw
    if not isinstance(body, dict):
        return raw
    body["model"] = model
    return orjson.dumps(body)
