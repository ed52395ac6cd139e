"""Chat completions: both URL shapes, the response shape, determinism, validation, tools."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.emulator.helpers import API_KEY, API_VERSION, KEY, chat


def assert_completion_shape(data: dict[str, Any], model: str) -> None:
    assert set(data) >= {"id", "object", "created", "model", "choices", "usage"}
    assert data["object"] == "chat.completion"
    assert data["id"].startswith("chatcmpl-")
    assert isinstance(data["created"], int)
    assert data["model"] == model
    choice = data["choices"][0]
    assert choice["index"] == 0
    assert choice["message"]["role"] == "assistant"
    assert isinstance(choice["message"]["content"], str)
    assert choice["finish_reason"] == "stop"
    usage = data["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens"] > 0
    assert usage["completion_tokens"] > 0


def test_deployments_url_shape(client: httpx.Client) -> None:
    response = chat(client, "Phi-4-mini", "Hello there")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert_completion_shape(data, "Phi-4-mini-instruct")
    assert data["choices"][0]["message"]["content"].startswith("[Phi-4-mini] ")


def test_v1_url_shape_takes_deployment_from_model(client: httpx.Client) -> None:
    response = client.post(
        "/openai/v1/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello there"}]},
        headers=KEY,
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert_completion_shape(data, "gpt-4o")
    assert data["choices"][0]["message"]["content"].startswith("[gpt-4o] ")


def test_answers_carry_request_ids_and_remaining_quota(client: httpx.Client) -> None:
    response = chat(client)
    assert response.headers["apim-request-id"] == response.headers["x-request-id"]
    assert int(response.headers["x-ratelimit-remaining-tokens"]) < 400_000
    assert int(response.headers["x-ratelimit-remaining-requests"]) == 1000 - 1


def test_answer_is_a_pure_function_of_deployment_and_messages(client: httpx.Client) -> None:
    first = chat(client, "Phi-4", "Tell me about otters").json()
    again = chat(client, "Phi-4", "Tell me about otters").json()
    other = chat(client, "Phi-4", "Tell me about beavers").json()
    text = first["choices"][0]["message"]["content"]
    assert text == again["choices"][0]["message"]["content"]
    assert "otters" in text
    assert text != other["choices"][0]["message"]["content"]
    assert first["usage"] == again["usage"]


def test_max_tokens_cuts_the_answer_with_finish_reason_length(client: httpx.Client) -> None:
    data = chat(client, "Phi-4-mini", "Hello there", max_tokens=3).json()
    choice = data["choices"][0]
    assert choice["finish_reason"] == "length"
    assert data["usage"]["completion_tokens"] <= 3
    assert len(choice["message"]["content"]) <= 12


def test_max_completion_tokens_bounds_reasoning_models(client: httpx.Client) -> None:
    data = chat(client, "gpt-5", "Hello there", max_completion_tokens=2).json()
    assert data["choices"][0]["finish_reason"] == "length"
    assert data["usage"]["completion_tokens"] <= 2


def test_usage_counts_about_four_chars_per_token(client: httpx.Client) -> None:
    short = chat(client, content="x" * 4).json()["usage"]["prompt_tokens"]
    long = chat(client, content="x" * 400).json()["usage"]["prompt_tokens"]
    assert long - short == 100 - 1


def test_n_returns_that_many_choices(client: httpx.Client) -> None:
    data = chat(client, n=3).json()
    assert [c["index"] for c in data["choices"]] == [0, 1, 2]


def test_missing_api_version_is_400(client: httpx.Client) -> None:
    response = client.post(
        "/openai/deployments/Phi-4-mini/chat/completions",
        json={"messages": [{"role": "user", "content": "hi"}]},
        headers=KEY,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MissingApiVersionParameter"


@pytest.mark.parametrize("shape", ["deployments", "v1"])
def test_unknown_deployment_is_404(client: httpx.Client, shape: str) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}]}
    if shape == "v1":
        response = client.post(
            "/openai/v1/chat/completions", json={**body, "model": "nope"}, headers=KEY
        )
    else:
        response = chat(client, "nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "DeploymentNotFound"


def test_v1_without_model_is_400(client: httpx.Client) -> None:
    response = client.post(
        "/openai/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "hi"}]},
        headers=KEY,
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "model"


def test_invalid_json_is_400(client: httpx.Client) -> None:
    response = client.post(
        "/openai/deployments/Phi-4-mini/chat/completions",
        params={"api-version": API_VERSION},
        content=b'{"messages": [',
        headers={**KEY, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "could not parse the JSON body" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({}, "messages", "missing_required_parameter"),
        ({"messages": []}, "messages", "empty_array"),
        ({"messages": "hi"}, "messages", "invalid_type"),
        ({"messages": ["hi"]}, "messages[0]", "invalid_type"),
        ({"messages": [{"content": "hi"}]}, "messages[0].role", "missing_required_parameter"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role", "invalid_value"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content", "invalid_type"),
        ({"messages": [{"role": "user"}]}, "messages[0].content", "missing_required_parameter"),
        ({"temperature": "hot"}, "temperature", "invalid_type"),
        ({"temperature": 3}, "temperature", "invalid_value"),
        ({"top_p": 1.5}, "top_p", "invalid_value"),
        ({"max_tokens": 0}, "max_tokens", "integer_below_min_value"),
        ({"max_tokens": "ten"}, "max_tokens", "invalid_type"),
        ({"stream": "yes"}, "stream", "invalid_type"),
        ({"stream_options": {"include_usage": True}}, "stream_options", "invalid_value"),
        ({"tools": [{"type": "function"}]}, "tools[0].function.name", "missing_required_parameter"),
    ],
)
def test_bad_bodies_are_400_naming_the_param(
    client: httpx.Client, body: dict[str, Any], param: str, code: str
) -> None:
    payload = {"messages": [{"role": "user", "content": "hi"}], **body}
    if body == {}:
        payload = {}
    response = client.post(
        "/openai/deployments/Phi-4-mini/chat/completions",
        params={"api-version": API_VERSION},
        json=payload,
        headers=KEY,
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert error["code"] == code


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}


def test_tool_call_when_asked(client: httpx.Client) -> None:
    data = chat(
        client, "gpt-4o", "Please call a tool to get the weather", tools=[WEATHER_TOOL]
    ).json()
    choice = data["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"example"}'}


def test_no_tool_call_unless_asked_or_after_tool_result(client: httpx.Client) -> None:
    plain = chat(client, "gpt-4o", "What is the weather like?", tools=[WEATHER_TOOL]).json()
    assert plain["choices"][0]["finish_reason"] == "stop"
    messages = [
        {"role": "user", "content": "call a tool"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny, 21 C"},
    ]
    after = chat(client, "gpt-4o", messages=messages, tools=[WEATHER_TOOL]).json()
    assert after["choices"][0]["finish_reason"] == "stop"
    assert "Sunny, 21 C" in after["choices"][0]["message"]["content"]


def test_models_and_health(client: httpx.Client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/openai/v1/models").status_code == 401
    models = client.get("/openai/v1/models", headers=KEY).json()
    ids = {m["id"] for m in models["data"]}
    assert ids == {"Phi-4-mini", "Phi-4", "gpt-5-nano", "gpt-5-mini", "gpt-5", "gpt-4o"}


def test_openai_sdk_against_both_shapes(client: httpx.Client, base_url: str) -> None:
    # The plain SDK on the v1 URL sends the key as a bearer token, which Azure's v1 API accepts.
    v1 = openai.OpenAI(base_url=f"{base_url}/openai/v1/", api_key=API_KEY, max_retries=0)
    completion = v1.chat.completions.create(
        model="Phi-4-mini", messages=[{"role": "user", "content": "Hello"}]
    )
    assert completion.choices[0].message.content.startswith("[Phi-4-mini] ")
    azure = openai.AzureOpenAI(
        azure_endpoint=base_url, api_key=API_KEY, api_version=API_VERSION, max_retries=0
    )
    completion = azure.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Hello"}]
    )
    assert completion.model == "gpt-4o"
    recorded = client.get("/control/requests").json()["requests"]
    assert [(r["deployment"], r["auth"], r["status"]) for r in recorded] == [
        ("Phi-4-mini", "bearer", 200),
        ("gpt-4o", "api-key", 200),
    ]


def test_unknown_paths_and_methods_answer_json(client: httpx.Client) -> None:
    response = client.post("/openai/deployments/gpt-5/completions", headers=KEY)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "404", "message": "Resource not found"}}
    response = client.get("/openai/v1/chat/completions", headers=KEY)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "405"
