"""The route table behind the catch-all: which paths exist, with which methods."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from shared.edge import (
    CATCH_ALL_FUNCTION,
    CATCH_ALL_ROUTE,
    ENDPOINTS,
    FUNCTIONS,
    Endpoint,
    RouteTable,
    with_model,
)


def test_templates_match_their_paths_only() -> None:
    table = RouteTable([("v1/models", ["GET"]), ("v1/models/{model}", ["GET"])])
    assert table.allowed("/api/v1/models") == {"GET"}
    assert table.allowed("/api/v1/models/gpt-5") == {"GET"}
    assert table.allowed("/api/v1/models/a/b") == frozenset()
    assert table.allowed("/api/V1/Models") == {"GET"}  # the host ignores case
    assert table.allowed("/API/v1/models") == {"GET"}  # the route prefix's too


def test_unknown_path_is_404_and_wrong_method_405_with_allow() -> None:
    table = RouteTable([("v1/responses", ["POST"]), ("v1/responses/{id}", ["GET", "DELETE"])])
    assert table.unmatched("GET", "/api/v1/nothing").status == 404
    wrong = table.unmatched("PUT", "/api/v1/responses/resp_1")
    assert (wrong.status, wrong.headers["allow"]) == (405, "DELETE, GET")


def test_the_catch_all_sorts_after_every_function_and_every_route_is_in_the_table() -> None:
    # In a child: get_functions() may run once per app, and the worker's indexing is that once.
    script = (
        "import json, function_app as f\n"
        "fs = f.app.get_functions()\n"
        "print(json.dumps([[x.get_function_name(), x.get_trigger().route] for x in fs]))\n"
        "print(json.dumps(sorted(r.template for r in f.gateway.routes.routes)))\n"
    )
    env = {**os.environ, "FOUNDRY_ENDPOINT": "http://127.0.0.1:9", "FOUNDRY_API_KEY": "k"}
    lines = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    ).stdout.splitlines()
    functions, tabled = json.loads(lines[-2]), json.loads(lines[-1])
    names = sorted(name.lower() for name, _ in functions)
    assert names[-1] == CATCH_ALL_FUNCTION
    assert sorted(route for _, route in functions if route != CATCH_ALL_ROUTE) == tabled


def endpoint(function: str) -> Endpoint:
    return next(e for e in FUNCTIONS if e.function == function)


def test_path_parameters_are_named_by_the_route() -> None:
    azure = endpoint("azure_chat_completions")
    assert azure.params("/api/openai/deployments/gpt-5/chat/completions") == {"deployment": "gpt-5"}
    assert endpoint("chat_completions").params("/api/v1/chat/completions") == {}
    items = endpoint("azure_responses_input_items")
    assert items.params("/api/openai/responses/resp_1/input_items/") == {"response_id": "resp_1"}
    assert endpoint("retrieve_model").params("/api/v1/models/a/b") is None
    assert endpoint(CATCH_ALL_FUNCTION).params("/api/x/y") == {"path": "x/y"}


def test_every_operation_keeps_its_function_names_and_health_alone_is_anonymous() -> None:
    names = [e.function for e in FUNCTIONS]
    assert len(names) == len(set(names))
    assert "azure_v1_responses_stored" in names
    assert "azure_chat_completions" in names
    assert {e.function for e in ENDPOINTS if e.anonymous} == {"health"}


def test_a_deployment_in_the_path_becomes_the_model() -> None:
    assert with_model(b'{"messages": []}', "gpt-5") == b'{"messages":[],"model":"gpt-5"}'
    assert with_model(b"[1]", "gpt-5") == b"[1]"
