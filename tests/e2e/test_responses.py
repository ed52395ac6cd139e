"""POST /v1/responses through the unchanged openai SDK: translated for the chat-only small tier,
passed through to the large tier, streamed and not; state, bad input, built-in tools."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.conftest import Emulator

WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
ASK_TOOL = "Please call the tool get_weather for Oslo"


@pytest.fixture
def sdk(router_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{router_url}/api/v1", api_key="unused", max_retries=0)


@pytest.fixture
def tool_sdk(tools_router_url: str) -> openai.OpenAI:
    """The small tier takes tools (tests/conftest.py TOOL_TIERS): Phi-4-mini refuses them."""
    return openai.OpenAI(base_url=f"{tools_router_url}/api/v1", api_key="unused", max_retries=0)


@pytest.mark.parametrize(
    ("model", "deployment", "path"),
    [
        ("small", "Phi-4-mini", "/chat/completions"),
        ("large", "gpt-5", "/openai/v1/responses"),
    ],
)
def test_json_answer_in_the_api_each_tier_speaks(
    sdk: openai.OpenAI, emulator: Emulator, model: str, deployment: str, path: str
) -> None:
    raw = sdk.responses.with_raw_response.create(
        model=model, instructions="Be brief.", input="hi", max_output_tokens=200
    )
    reply = raw.parse()
    assert reply.model == deployment
    assert reply.output_text.startswith(f"[{deployment}]")
    assert reply.status == "completed"
    assert reply.usage is not None
    assert reply.usage.output_tokens > 0
    assert raw.headers["x-router-tier"] == model
    assert float(raw.headers["x-router-cost-usd"]) > 0
    sent = emulator.requests(deployment)[-1]
    assert sent["path"].endswith(path)
    assert sent["body"].get("store") in (None, False)  # the router keeps the state, not upstream


def test_auto_routes_and_explains_itself(sdk: openai.OpenAI) -> None:
    raw = sdk.responses.with_raw_response.create(model="auto", input="hi")
    assert raw.headers["x-router-tier"] == "small"
    assert raw.headers["x-router-decided-by"] in ("scorer", "classifier", "cache")


@pytest.mark.parametrize("model", ["small", "large"])
def test_stream_is_what_the_sdk_stream_helper_accepts(tool_sdk: openai.OpenAI, model: str) -> None:
    sdk = tool_sdk
    with sdk.responses.stream(model=model, input="hello there", tools=[WEATHER]) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds
    assert final.output_text
    assert final.usage is not None
    assert final.usage.model_extra is not None
    assert final.usage.model_extra["cost_usd"] > 0  # priced like chat streams' usage
    assert sdk.responses.retrieve(final.id).output_text == final.output_text


@pytest.mark.parametrize("model", ["small", "large"])
def test_function_call_round_trip(tool_sdk: openai.OpenAI, model: str) -> None:
    sdk = tool_sdk
    first = sdk.responses.create(model=model, input=ASK_TOOL, tools=[WEATHER])
    calls = [item for item in first.output if item.type == "function_call"]
    assert [c.name for c in calls] == ["get_weather"]
    second = sdk.responses.create(
        model=model,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": "rain"}],
        tools=[WEATHER],
    )
    assert "rain" in second.output_text
    assert second.previous_response_id == first.id


def test_streamed_function_call_arguments(tool_sdk: openai.OpenAI, emulator: Emulator) -> None:
    sdk = tool_sdk
    with sdk.responses.stream(model="small", input=ASK_TOOL, tools=[WEATHER]) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert "response.function_call_arguments.delta" in kinds
    call = final.output[0]
    assert call.type == "function_call"
    assert call.arguments.startswith("{")
    (sent,) = emulator.requests("gpt-5-nano")  # translated for the chat-only small tier
    assert sent["path"].endswith("/chat/completions")


def test_chain_crosses_tiers_both_ways(sdk: openai.OpenAI, emulator: Emulator) -> None:
    small = sdk.responses.create(model="small", input="My name is Ada.")
    large = sdk.responses.create(
        model="large", input="What is my name?", previous_response_id=small.id
    )
    back = sdk.responses.create(model="small", input="Thanks.", previous_response_id=large.id)
    assert (small.model, large.model, back.model) == ("Phi-4-mini", "gpt-5", "Phi-4-mini")
    to_large = emulator.requests("gpt-5")[-1]["body"]["input"]
    assert to_large[0]["content"] == "My name is Ada."  # the small tier's turn went along
    assert any(i.get("role") == "assistant" for i in to_large)
    to_small = emulator.requests("Phi-4-mini")[-1]["body"]["messages"]
    assert [m["role"] for m in to_small] == ["user", "assistant", "user", "assistant", "user"]


def test_store_false_keeps_nothing(sdk: openai.OpenAI) -> None:
    reply = sdk.responses.create(model="small", input="hi", store=False)
    assert reply.store is False
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(reply.id)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.responses.create(model="small", input="and?", previous_response_id=reply.id)
    assert caught.value.code == "previous_response_not_found"


def test_deleted_response_is_gone(sdk: openai.OpenAI) -> None:
    reply = sdk.responses.create(model="small", input="hi")
    sdk.responses.delete(reply.id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(reply.id)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.responses.create(model="small", input="and?", previous_response_id=reply.id)
    assert caught.value.param == "previous_response_id"
    with pytest.raises(openai.NotFoundError):
        sdk.responses.delete(reply.id)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (
            {"input": [{"type": "function_call_output", "call_id": "nope", "output": "1"}]},
            "input[0].call_id",
        ),
        ({"input": [{"type": "computer_call_output", "call_id": "c"}]}, "input[0].type"),
        ({"input": [{"role": "user", "content": 5}]}, "input[0].content"),
        ({"input": [{"role": "user", "content": [{"text": "no type"}]}]}, "input[0].content[0]"),
        ({"input": "hi", "previous_response_id": "resp_doesnotexist"}, "previous_response_id"),
        ({"input": "hi", "max_output_tokens": "many"}, "max_output_tokens"),
        ({"input": "hi", "made_up": 1}, "made_up"),
        ({}, "input"),
    ],
)
def test_bad_input_is_a_clear_400_and_nothing_is_sent(
    router: httpx.Client, emulator: Emulator, body: dict[str, Any], param: str
) -> None:
    reply = router.post("/v1/responses", json={"model": "auto", **body})
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert error["param"] == param
    assert emulator.requests() == []


def test_too_large_body_is_413(router: httpx.Client) -> None:
    reply = router.post("/v1/responses", content=b'{"input": "' + b"x" * 5_000_000 + b'"}')
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "request_too_large"


def test_builtin_tool_no_tier_runs_is_a_400_naming_it(router: httpx.Client) -> None:
    body = {"model": "auto", "input": "news?", "tools": [{"type": "web_search"}]}
    reply = router.post("/v1/responses", json=body)
    assert reply.status_code == 400
    assert "web_search" in reply.json()["error"]["message"]
    assert reply.json()["error"]["code"] == "unsupported_tool"


def test_builtin_tool_goes_to_the_tier_that_has_it(start_router: Any, emulator: Emulator) -> None:
    tiers = (
        '[{"name": "small", "deployment": "Phi-4-mini"},'
        ' {"name": "large", "deployment": "gpt-4o", "apis": ["chat", "responses"],'
        '  "capabilities": ["code_interpreter"]}]'
    )
    url = start_router(ROUTER_TIERS=tiers)
    body = {
        "model": "auto",
        "input": "hi",
        "tools": [{"type": "code_interpreter", "container": {"type": "auto"}}],
    }
    reply = httpx.post(f"{url}/api/v1/responses", json=body, timeout=30)
    # The emulator runs function tools only and says so (passed on, a 400 the caller caused):
    # what matters here is who was asked.
    assert reply.json()["error"]["param"] == "tools[0].type"
    assert emulator.requests("gpt-4o")[-1]["path"] == "/openai/v1/responses"
    assert emulator.requests("Phi-4-mini") == []


def test_responses_only_field_on_a_chat_only_pin_is_a_400(router: httpx.Client) -> None:
    reply = router.post("/v1/responses", json={"model": "small", "input": "hi", "background": True})
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "background"


def test_cut_stream_ends_failed_never_completed(router: httpx.Client, emulator: Emulator) -> None:
    emulator.fault("Phi-4-mini", "stream_cut", after_chunks=2)
    body = {"model": "small", "input": "tell me a longer story please", "stream": True}
    with router.stream("POST", "/v1/responses", json=body) as reply:
        text = reply.read().decode()
    assert "response.failed" in text
    assert "response.completed" not in text


def test_azure_openai_client_responses(router_url: str) -> None:
    azure = openai.AzureOpenAI(
        azure_endpoint=f"{router_url}/api", api_key="unused", api_version="preview", max_retries=0
    )
    reply = azure.responses.create(model="large", input="hi")
    assert reply.model == "gpt-5"
    assert azure.responses.retrieve(reply.id).id == reply.id


def test_passthrough_is_retried_like_chat(router: httpx.Client, emulator: Emulator) -> None:
    emulator.fault("gpt-5", "rate_limit", times=1, retry_after_ms=10)
    reply = router.post("/v1/responses", json={"model": "large", "input": "hi"})
    assert reply.status_code == 200, reply.text
    assert [r["status"] for r in emulator.requests("gpt-5")] == [429, 200]


def test_passthrough_cut_stream_ends_failed(router: httpx.Client, emulator: Emulator) -> None:
    emulator.fault("gpt-5", "stream_cut", after_chunks=7)
    body = {"model": "large", "input": "tell me a longer story please", "stream": True}
    with router.stream("POST", "/v1/responses", json=body) as reply:
        text = reply.read().decode()
    assert "response.output_text.delta" in text  # it was cut mid-answer
    assert text.rstrip().splitlines()[-1].startswith("data: ")
    assert "event: response.failed" in text
    assert "response.completed" not in text


def test_same_eligibility_as_chat_for_function_tools(router: httpx.Client) -> None:
    # The default small tier (Foundry's Phi-4-mini) declares no tool calling: a request that
    # offers tools goes where chat completions would send it (the small tier that takes tools),
    # whichever API it came in.
    responses = router.post(
        "/v1/responses", json={"model": "auto", "input": "hi", "tools": [WEATHER]}
    )
    chat_tool = {"type": "function", "function": {k: WEATHER[k] for k in ("name", "parameters")}}
    chat = router.post(
        "/v1/chat/completions",
        json={
            "model": "auto",
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [chat_tool],
        },
    )
    assert responses.status_code == chat.status_code == 200
    assert responses.headers["x-router-tier"] == chat.headers["x-router-tier"] == "small-tools"
