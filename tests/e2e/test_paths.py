"""The paths clients call besides /v1/chat/completions: Azure OpenAI's, models.retrieve, and
OpenAI-format 404/405 for everything else, through the unchanged AzureOpenAI and OpenAI clients."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.conftest import Emulator

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def azure(router_url: str) -> openai.AzureOpenAI:
    return openai.AzureOpenAI(
        azure_endpoint=f"{router_url}/api",
        api_version="2024-10-21",
        api_key="unused",
        max_retries=0,
    )


@pytest.mark.parametrize(("deployment", "tier"), [("auto", "small"), ("large", "large")])
def test_azure_openai_client_chat(
    azure: openai.AzureOpenAI, emulator: Emulator, deployment: str, tier: str
) -> None:
    raw = azure.chat.completions.with_raw_response.create(model=deployment, messages=HI)
    reply = raw.parse()
    assert raw.headers["x-router-tier"] == tier
    assert reply.choices[0].message.content
    sent = emulator.requests()
    assert sent
    assert sent[-1]["deployment"] == reply.model


def test_azure_openai_client_streams(azure: openai.AzureOpenAI) -> None:
    chunks = list(azure.chat.completions.create(model="gpt-5", messages=HI, stream=True))
    assert {c.model for c in chunks if c.choices} == {"gpt-5"}
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_deployment_in_the_path_is_the_model_even_without_one_in_the_body(
    router: httpx.Client,
) -> None:
    reply = router.post(
        "/openai/deployments/Phi-4-mini/chat/completions",
        params={"api-version": "2024-10-21"},
        json={"messages": HI},
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-router-decided-by"] == "pin"
    assert reply.json()["model"] == "Phi-4-mini"


def test_unknown_deployment_in_the_path_is_a_clear_400(router: httpx.Client) -> None:
    reply = router.post(
        "/openai/deployments/nope/chat/completions",
        params={"api-version": "2024-10-21"},
        json={"messages": HI},
    )
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "model_not_found"


def test_azure_v1_paths_with_the_openai_client(router_url: str) -> None:
    client = openai.OpenAI(base_url=f"{router_url}/api/openai/v1", api_key="unused", max_retries=0)
    reply = client.chat.completions.create(model="auto", messages=HI)
    assert reply.choices[0].message.content
    assert [m.id for m in client.models.list()] == ["auto", "small", "small-tools", "large"]


def test_models_retrieve(router_url: str) -> None:
    client = openai.OpenAI(base_url=f"{router_url}/api/v1", api_key="unused", max_retries=0)
    assert client.models.retrieve("large").id == "large"
    assert client.models.retrieve("gpt-5").id == "gpt-5"
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("gpt-2")
    assert caught.value.code == "model_not_found"


@pytest.mark.parametrize("path", ["/api/V1/Models", "/API/v1/models", "/api/V1/Models/large"])
def test_paths_match_in_any_letter_case_as_on_the_functions_host(
    router_url: str, path: str
) -> None:
    reply = httpx.get(f"{router_url}{path}", timeout=30)
    assert reply.status_code == 200, reply.text
    assert reply.json()["object"] in ("list", "model")


@pytest.mark.parametrize("path", ["/v1/nope", "/v2/chat/completions", "/", "/v1/models/a/b"])
def test_unknown_paths_are_openai_format_404s(router: httpx.Client, path: str) -> None:
    reply = router.post(path, json={})
    assert reply.status_code == 404
    assert reply.headers["content-type"].startswith("application/json")
    error = reply.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert error["code"] == "unknown_url"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/v1/chat/completions", "POST"),
        ("DELETE", "/v1/models", "GET"),
        ("PUT", "/openai/deployments/x/chat/completions", "POST"),
    ],
)
def test_wrong_methods_are_openai_format_405s(
    router: httpx.Client, method: str, path: str, allow: str
) -> None:
    reply = router.request(method, path)
    assert reply.status_code == 405
    assert allow in reply.headers["allow"]
    assert reply.json()["error"]["code"] == "method_not_allowed"


def test_the_sdk_raises_its_not_found_error_on_an_unknown_path(router_url: str) -> None:
    client = openai.OpenAI(base_url=f"{router_url}/api/v9", api_key="unused", max_retries=0)
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="auto", messages=HI)
    assert caught.value.code == "unknown_url"
