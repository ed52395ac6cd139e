"""Tool calling per deployment: Phi-4-mini and Phi-4 refuse tools, as on Foundry; GPT takes them."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.conftest import WEATHER_ASK as ASK
from tests.conftest import WEATHER_TOOL
from tests.emulator.helpers import API_KEY, KEY, chat, settings
from tests.emulator.test_models_route import models_chat

OPENAI_ROUTE_ERROR = {
    "message": "Unsupported parameter: 'tools' is not supported with this model. This model "
    "does not support tool calling.",
    "type": "invalid_request_error",
    "param": "tools",
    "code": "unsupported_parameter",
}


def v1_chat(client: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return client.post("/openai/v1/chat/completions", json=body, headers=KEY)


@pytest.mark.parametrize("deployment", ["Phi-4-mini", "Phi-4"])
def test_the_openai_routes_refuse_tools_for_phi(client: httpx.Client, deployment: str) -> None:
    on_path = chat(client, deployment, messages=ASK, tools=[WEATHER_TOOL])
    in_body = v1_chat(client, {"model": deployment, "messages": ASK, "tools": [WEATHER_TOOL]})
    for response in (on_path, in_body):
        assert response.status_code == 400, response.text
        assert response.json() == {"error": OPENAI_ROUTE_ERROR}


def test_the_models_route_refuses_tools_in_its_own_shape(client: httpx.Client) -> None:
    body = {"model": "Phi-4-mini", "messages": ASK, "tools": [WEATHER_TOOL]}
    response = models_chat(client, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["status"]) == ("BadRequestError", 400)
    assert "tool choice" in error["message"]


@pytest.mark.parametrize(
    "extra",
    [{"tool_choice": "required"}, {"tool_choice": "auto"}, {"tools": [WEATHER_TOOL]}],
    ids=["tool_choice required", "tool_choice auto", "tools, no tool_choice"],
)
def test_any_ask_for_a_tool_call_is_refused(client: httpx.Client, extra: dict[str, Any]) -> None:
    response = chat(client, "Phi-4-mini", messages=ASK, **extra)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "tools"


def test_tool_choice_none_and_no_tools_are_answered(client: httpx.Client) -> None:
    none = chat(client, "Phi-4-mini", messages=ASK, tools=[WEATHER_TOOL], tool_choice="none")
    empty = chat(client, "Phi-4-mini", messages=ASK, tools=[])
    for response in (none, empty):
        assert response.status_code == 200, response.text
        assert response.json()["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize("route", ["deployments", "v1"])
def test_gpt_5_nano_calls_the_tool(client: httpx.Client, route: str) -> None:
    if route == "deployments":
        response = chat(client, "gpt-5-nano", messages=ASK, tools=[WEATHER_TOOL])
    else:
        body = {"model": "gpt-5-nano", "messages": ASK, "tools": [WEATHER_TOOL]}
        response = v1_chat(client, body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["model"] == "gpt-5-nano"
    (call,) = data["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "get_weather"


def test_the_openai_client_sees_a_bad_request(base_url: str) -> None:
    client = openai.OpenAI(base_url=f"{base_url}/openai/v1", api_key=API_KEY, max_retries=0)
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(
            model="Phi-4-mini",
            messages=[{"role": "user", "content": "Use the get_weather tool for Paris."}],
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
        )
    assert raised.value.code == "unsupported_parameter"
    assert raised.value.param == "tools"


def test_tool_calling_is_a_deployment_setting(client: httpx.Client) -> None:
    shown = settings(client, deployments={"Phi-4-mini": {"tool_calling": True}})
    assert shown["deployments"]["Phi-4-mini"]["tool_calling"] is True
    assert shown["deployments"]["Phi-4"]["tool_calling"] is False
    assert shown["deployments"]["gpt-5-nano"]["tool_calling"] is True
    response = chat(client, "Phi-4-mini", messages=ASK, tools=[WEATHER_TOOL])
    assert response.status_code == 200, response.text
