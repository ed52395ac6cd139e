"""Health, models, OpenAPI, function keys, and the unchanged OpenAI SDK against the router."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.conftest import StartRouter


def test_health_details_show_configuration_without_secrets(router: httpx.Client) -> None:
    response = router.get("/health/details")
    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok"
    assert [t["deployment"] for t in health["tiers"]] == ["Phi-4-mini", "gpt-5-nano", "gpt-5"]
    assert "emulator-key" not in response.text


def test_models_lists_auto_and_the_tiers(router: httpx.Client) -> None:
    models = router.get("/v1/models").json()
    assert models["object"] == "list"
    assert [m["id"] for m in models["data"]] == ["auto", "small", "small-tools", "large"]


def test_openapi_document_describes_the_endpoints(router: httpx.Client) -> None:
    document = router.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    assert {"/v1/chat/completions", "/v1/models", "/route", "/health", "/health/details"} <= paths
    # The key as the host takes it: a header, or ?code= (either one).
    schemes = document["components"]["securitySchemes"]
    assert {(s["in"], s["name"]) for s in schemes.values()} == {
        ("header", "x-functions-key"),
        ("query", "code"),
    }
    assert document["security"] == [{name: []} for name in schemes]


def test_function_keys_are_enforced_when_configured(start_router: StartRouter) -> None:
    url = start_router(LOCAL_FUNCTION_KEY="s3cret")
    body = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}
    assert httpx.post(f"{url}/api/v1/chat/completions", json=body).status_code == 401
    keyed = httpx.post(
        f"{url}/api/v1/chat/completions", json=body, headers={"x-functions-key": "s3cret"}
    )
    assert keyed.status_code == 200
    assert httpx.get(f"{url}/api/v1/models", params={"code": "s3cret"}).status_code == 200
    assert httpx.get(f"{url}/api/health").status_code == 200  # anonymous


def test_the_key_as_code_is_taken_on_every_keyed_route(start_router: StartRouter) -> None:
    """Azure takes the function key as `?code=` as well as `x-functions-key`, and passes the
    query on to the function: no route may refuse it as a parameter of its own."""
    url = start_router(LOCAL_FUNCTION_KEY="s3cret")
    key = {"code": "s3cret"}
    created = httpx.post(
        f"{url}/api/v1/responses", params=key, json={"model": "small", "input": "hi"}
    )
    assert created.status_code == 200
    response_id = created.json()["id"]
    for path in (
        f"/api/v1/responses/{response_id}",
        f"/api/v1/responses/{response_id}/input_items",
        "/api/v1/models",
        "/api/health/details",
        "/api/openapi.json",
    ):
        assert httpx.get(f"{url}{path}", params=key).status_code == 200, path
        assert httpx.get(f"{url}{path}").status_code == 401, path
    listed = httpx.get(
        f"{url}/api/v1/responses/{response_id}/input_items", params={**key, "limit": "1"}
    )
    assert len(listed.json()["data"]) == 1


def test_anonymous_health_says_only_that_the_app_is_up(start_router: StartRouter) -> None:
    url = start_router(LOCAL_FUNCTION_KEY="s3cret")
    assert httpx.get(f"{url}/api/health").json() == {"status": "ok"}
    details = httpx.get(f"{url}/api/health/details", headers={"x-functions-key": "s3cret"})
    assert [t["name"] for t in details.json()["tiers"]] == ["small", "small-tools", "large"]
    assert "deployments" in details.json()  # each deployment's breaker, once it was called


@pytest.fixture
def sdk(router_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{router_url}/api/v1", api_key="unused", max_retries=0)


def test_openai_sdk_json(sdk: openai.OpenAI) -> None:
    raw = sdk.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "hi"}]
    )
    reply = raw.parse()
    assert raw.headers["x-router-tier"] == "small"
    assert reply.model == "Phi-4-mini"
    assert reply.choices[0].message.content


def test_openai_sdk_streaming(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="auto",
        messages=[{"role": "user", "content": "Write a step by step plan to learn Rust"}],
        stream=True,
    )
    chunks = list(stream)
    assert {c.model for c in chunks} == {"gpt-5"}
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_openai_sdk_sees_router_errors(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as failure:
        sdk.chat.completions.create(model="nope", messages=[{"role": "user", "content": "hi"}])
    assert failure.value.code == "model_not_found"


def test_bad_configuration_stops_start_up_naming_the_setting() -> None:
    from devtools.process import start_server

    with pytest.raises(RuntimeError) as failure:
        start_server(
            ["-m", "devtools.localhost", "--port", "0"],
            env={"FOUNDRY_ENDPOINT": "http://127.0.0.1:9", "ROUTER_PRESET": "cheapest"},
            timeout=60,
        )
    assert "ROUTER_PRESET" in str(failure.value)
    assert "cheapest" in str(failure.value)
