"""The app's HTTP surface, declared once: every operation and the paths it is served under, as
the Functions app and the local host both register them (function_app.py, devtools/localhost.py);
and the route table that answers what no function matched: 404 for an unknown path, 405 (with
Allow) for a known path asked with the wrong method, both in OpenAI's error envelope.

The Functions host tries routes in the alphabetical order of function names and skips a route
whose methods don't match (Azure/azure-functions-host#9876), so a catch-all function named to
sort last sees exactly the requests no other function took; devtools/localhost.py does the same.
Function names are kept stable: the host's ordering and the infrastructure name them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import orjson

from shared.api import ApiError

CATCH_ALL_FUNCTION = "zz_unmatched"  # sorts after every other function name
CATCH_ALL_ROUTE = "{*path}"
ROUTE_PREFIX = "/api/"  # host.json's default http.routePrefix
# How the host takes a function key: a header, or a query parameter of any keyed route
# (https://learn.microsoft.com/azure/azure-functions/function-keys-how-to#use-access-keys).
FUNCTION_KEY_HEADER = "x-functions-key"
FUNCTION_KEY_QUERY = "code"
ALL_METHODS = ("GET", "POST", "DELETE", "HEAD", "PATCH", "PUT", "OPTIONS")


def compile_template(template: str) -> re.Pattern[str]:
    """A Functions route template (`v1/models/{model}`, `{*rest}`) as a regex for the path after
    the prefix, each parameter a named group. Route constraints (`{id:int}`) are not used."""
    out = []
    for part in re.split(r"(\{[^}]*\})", template.strip("/")):
        if part.startswith("{*"):
            out.append(f"(?P<{part[2:-1]}>.*)")
        elif part.startswith("{"):
            out.append(f"(?P<{part[1:-1]}>[^/]+)")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out), re.IGNORECASE)  # the host matches paths case-insensitively


def relative(path: str) -> str:
    """A URL path without the route prefix and the slashes around it. The prefix is matched in
    any letter case, as the host matches the rest of the route (/API/v1/models is served)."""
    has_prefix = path[: len(ROUTE_PREFIX)].lower() == ROUTE_PREFIX
    return (path[len(ROUTE_PREFIX) :] if has_prefix else path).strip("/")


@dataclass(frozen=True, slots=True)
class Route:
    template: str
    methods: frozenset[str]
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One Functions function: a route template, its methods, and the gateway handler for it."""

    function: str  # the function's name (the host orders routes by it)
    template: str  # e.g. "v1/responses/{response_id}"
    methods: tuple[str, ...]
    handler: str  # the Gateway method that serves it
    anonymous: bool = False  # else a function key is needed (the app's FUNCTION level)
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", compile_template(self.template))

    def params(self, path: str) -> Mapping[str, str] | None:
        """The named path parameters of `path` (`{"response_id": "resp_1"}`), None if the
        path is not this endpoint's."""
        found = self.pattern.fullmatch(relative(path))
        return found.groupdict() if found else None


@dataclass(frozen=True, slots=True)
class Prefix:
    path: str  # where an operation's path goes under
    function: str  # what its functions' names start with


V1 = Prefix("v1/", "")
# Azure OpenAI's own paths, so that the AzureOpenAI client and code written for an Azure OpenAI
# endpoint work against the function app (the preview Responses API, with an api-version, calls
# openai/responses); the deployment in the path is a `model` value.
AZURE_V1 = Prefix("openai/v1/", "azure_v1_")
AZURE = Prefix("openai/", "azure_")
AZURE_DEPLOYMENT = Prefix("openai/deployments/{deployment}/", "azure_")
ROOT = Prefix("", "")


@dataclass(frozen=True, slots=True)
class Operation:
    name: str  # its functions' name after the prefix's
    path: str
    methods: tuple[str, ...]
    handler: str
    prefixes: tuple[Prefix, ...]
    anonymous: bool = False


OPERATIONS = (
    Operation(
        "chat_completions", "chat/completions", ("POST",), "chat", (V1, AZURE_DEPLOYMENT, AZURE_V1)
    ),
    Operation("responses_create", "responses", ("POST",), "responses", (V1, AZURE_V1, AZURE)),
    Operation(
        "responses_stored",
        "responses/{response_id}",
        ("GET", "DELETE"),
        "response",
        (AZURE, V1, AZURE_V1),
    ),
    # What a stored response was made from (the openai SDK's client.responses.input_items.list).
    Operation(
        "responses_input_items",
        "responses/{response_id}/input_items",
        ("GET",),
        "input_items",
        (V1, AZURE_V1, AZURE),
    ),
    Operation("list_models", "models", ("GET",), "models", (V1, AZURE_V1)),
    # The Azure AI Model Inference API's GET /info (azure-ai-inference's get_model_info()).
    Operation("model_info", "info", ("GET",), "model_info", (V1,)),
    Operation("retrieve_model", "models/{model}", ("GET",), "model", (V1, AZURE_V1)),
    Operation("route", "route", ("POST",), "route", (ROOT,)),
    # Anonymous, for probes: whether the app is up, and nothing more. The host checks no key on
    # an anonymous route, so what an operator reads (tiers, breakers) is on a keyed route.
    Operation("health", "health", ("GET",), "health", (ROOT,), anonymous=True),
    Operation("health_details", "health/details", ("GET",), "health_details", (ROOT,)),
    Operation("openapi", "openapi.json", ("GET",), "openapi", (ROOT,)),
)
ENDPOINTS = tuple(
    Endpoint(p.function + op.name, p.path + op.path, op.methods, op.handler, op.anonymous)
    for op in OPERATIONS
    for p in op.prefixes
)
# Last on purpose: what no function above took gets an OpenAI-format 404, or a 405 naming the
# methods its path accepts. Anonymous, as the host's own 404 is.
CATCH_ALL = Endpoint(CATCH_ALL_FUNCTION, CATCH_ALL_ROUTE, ALL_METHODS, "unmatched", anonymous=True)
FUNCTIONS = (*ENDPOINTS, CATCH_ALL)


class RouteTable:
    """The routes of the app's functions (the catch-all aside), for 404 vs 405 and for naming
    a request's span by its route."""

    def __init__(self, routes: Iterable[tuple[str, Iterable[str]]] = ()) -> None:
        self.routes = [
            Route(template, frozenset(methods), compile_template(template))
            for template, methods in routes
            if template != CATCH_ALL_ROUTE
        ]

    def template(self, method: str, path: str) -> str | None:
        """The route template that serves `method path` (`/api/v1/responses/{response_id}`), for
        telemetry's http.route and span names: one name per route, not one per URL."""
        wanted = relative(path)
        for route in self.routes:
            if method in route.methods and route.pattern.fullmatch(wanted):
                return ROUTE_PREFIX + route.template.strip("/")
        return None

    def allowed(self, path: str) -> frozenset[str]:
        """The methods some route accepts at `path` (a full URL path, /api/ included)."""
        wanted = relative(path)
        methods: set[str] = set()
        for route in self.routes:
            if route.pattern.fullmatch(wanted):
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


APP_ROUTES = RouteTable((e.template, e.methods) for e in ENDPOINTS)


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
