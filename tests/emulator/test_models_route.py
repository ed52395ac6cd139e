"""The Foundry Models inference route: api-version, `model` routing, extra-parameters, errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.emulator.helpers import API_KEY, KEY, add_fault

MODELS_VERSION = "2024-05-01-preview"
HELLO = [{"role": "user", "content": "Hello there"}]


def models_chat(
    client: httpx.Client,
    body: dict[str, Any],
    *,
    version: str | None = MODELS_VERSION,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    params = {} if version is None else {"api-version": version}
    return client.post("/models/chat/completions", params=params, json=body, headers=headers or KEY)


def test_answers_the_deployment_named_in_model(client: httpx.Client) -> None:
    response = models_chat(client, {"model": "Phi-4-mini", "messages": HELLO})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["model"] == "Phi-4-mini-instruct"
    assert data["choices"][0]["message"]["content"].startswith("[Phi-4-mini] ")
    record = client.get("/control/requests").json()["requests"][-1]
    assert record["path"] == "/models/chat/completions"
    assert record["deployment"] == "Phi-4-mini"


def test_bearer_key_and_emulator_tokens_are_accepted(client: httpx.Client) -> None:
    as_bearer = models_chat(
        client,
        {"model": "Phi-4-mini", "messages": HELLO},
        headers={"authorization": f"Bearer {API_KEY}"},
    )
    assert as_bearer.status_code == 200, as_bearer.text
    wrong = models_chat(
        client, {"model": "Phi-4-mini", "messages": HELLO}, headers={"api-key": "x"}
    )
    assert wrong.status_code == 401


@pytest.mark.parametrize(
    ("version", "code"),
    [(None, "MissingApiVersionParameter"), ("2024-10-21", "UnsupportedApiVersion")],
)
def test_api_version_is_required_and_checked(
    client: httpx.Client, version: str | None, code: str
) -> None:
    response = models_chat(client, {"model": "Phi-4-mini", "messages": HELLO}, version=version)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_unknown_and_missing_model(client: httpx.Client) -> None:
    unknown = models_chat(client, {"model": "Phi-9", "messages": HELLO})
    assert unknown.status_code == 400
    assert unknown.json()["error"] == {
        "code": "unknown_model",
        "message": "Unknown model: Phi-9",
        "status": 400,
    }
    missing = models_chat(client, {"messages": HELLO})
    assert missing.status_code == 400
    assert "model" in missing.json()["error"]["message"]


def test_an_extra_parameter_is_refused_without_the_header(client: httpx.Client) -> None:
    body = {"model": "Phi-4-mini", "messages": HELLO, "user": "alice"}
    response = models_chat(client, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert "['user']" in error["message"]
    assert "extra-parameters" in error["message"]
    explicit = models_chat(client, body, headers={**KEY, "extra-parameters": "error"})
    assert explicit.status_code == 400


def test_pass_through_hands_the_extra_parameter_to_the_model(client: httpx.Client) -> None:
    body = {"model": "Phi-4-mini", "messages": HELLO, "user": "alice"}
    response = models_chat(client, body, headers={**KEY, "extra-parameters": "pass-through"})
    assert response.status_code == 200, response.text
    assert client.get("/control/requests").json()["requests"][-1]["body"]["user"] == "alice"


def test_drop_removes_the_extra_parameter(client: httpx.Client) -> None:
    # `n` would make the model answer twice; dropped, it answers once.
    body = {"model": "Phi-4-mini", "messages": HELLO, "n": 2}
    response = models_chat(client, body, headers={**KEY, "extra-parameters": "drop"})
    assert response.status_code == 200, response.text
    assert len(response.json()["choices"]) == 1
    passed = models_chat(client, body, headers={**KEY, "extra-parameters": "pass-through"})
    assert len(passed.json()["choices"]) == 2


def test_a_bad_header_value_is_refused(client: httpx.Client) -> None:
    body = {"model": "Phi-4-mini", "messages": HELLO}
    response = models_chat(client, body, headers={**KEY, "extra-parameters": "allow-all"})
    assert response.status_code == 400


def test_a_model_without_logprobs_answers_422_on_this_route(client: httpx.Client) -> None:
    body = {"model": "Phi-4-mini", "messages": HELLO, "logprobs": True}
    response = models_chat(client, body, headers={**KEY, "extra-parameters": "pass-through"})
    assert response.status_code == 422
    assert response.json() == {
        "status": 422,
        "code": "parameter_not_supported",
        "detail": {"loc": ["body", "logprobs"], "input": True},
        "message": "One of the parameters contain invalid values.",
    }


def test_a_refused_parameter_is_this_routes_422(client: httpx.Client) -> None:
    add_fault(client, deployment="Phi-4-mini", kind="reject_param", param="seed")
    body = {"model": "Phi-4-mini", "messages": HELLO, "seed": 7}
    response = models_chat(client, body, headers=KEY)
    assert response.status_code == 422, response.text
    error = response.json()  # flat: no `error` wrapper on this 422
    assert "error" not in error
    assert (error["code"], error["status"]) == ("parameter_not_supported", 422)
    assert error["detail"] == {"loc": ["body", "seed"], "input": 7}


def test_openai_deployments_answer_on_this_route_too(client: httpx.Client) -> None:
    response = models_chat(client, {"model": "gpt-4o", "messages": HELLO})
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "gpt-4o"
