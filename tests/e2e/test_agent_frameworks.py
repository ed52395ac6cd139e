"""Real agent frameworks run tool loops through the router over HTTP, against the emulator.

The OpenAI Agents SDK (OpenAIChatCompletionsModel) and LangChain's ChatOpenAI with bind_tools,
offline: base URL = the local router, a dummy key, the Agents SDK's tracing export off. The
emulator calls a tool when the user message asks to use it by name, and answers from the tool
result after it (devtools/emulator/answers.py). The tier table gives the small tier tools (a
Phi-4-mini deployment that takes them; Foundry's serverless one does not, see README), so
simple turns can stay small; every decision is read from the x-router-* headers.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool, set_tracing_disabled
from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from openai import AsyncOpenAI

from tests.conftest import StartRouter

TOOL_TIERS = [
    {
        "name": "small",
        "deployment": "Phi-4-mini",
        "input_price_per_1m": 0.075,
        "output_price_per_1m": 0.30,
        "capabilities": ["tools"],
    },
    {
        "name": "large",
        "deployment": "gpt-5",
        "input_price_per_1m": 1.25,
        "output_price_per_1m": 10.0,
        "context_window": 400_000,
        "capabilities": ["reasoning", "tools", "vision", "json_schema"],
    },
]
SIMPLE_ASK = "Use the get_weather tool for Paris."
PLANNING_ASK = (
    "Plan a three-step migration of our orders database to Postgres. "
    "Use the get_weather tool first to pick a calm day."
)


@pytest.fixture(scope="module")
def agent_router(start_router: StartRouter) -> str:
    return start_router(ROUTER_TIERS=json.dumps(TOOL_TIERS)) + "/api/v1"


def weather(city: str) -> str:
    return f"21 C and sunny in {city}"


async def agents_sdk_run(base_url: str, ask: str) -> tuple[str, list[httpx.Response], list[str]]:
    set_tracing_disabled(True)  # the exporter would try to reach api.openai.com
    answers: list[httpx.Response] = []
    calls: list[str] = []

    async def keep(response: httpx.Response) -> None:
        answers.append(response)

    @function_tool
    def get_weather(city: str) -> str:
        """The current weather in a city."""
        calls.append(city)
        return weather(city)

    async with httpx.AsyncClient(event_hooks={"response": [keep]}, timeout=30) as http:
        client = AsyncOpenAI(base_url=base_url, api_key="unused", http_client=http, max_retries=0)
        agent = Agent(
            name="assistant",
            instructions="You help with travel and operations questions. Use tools when asked.",
            tools=[get_weather],
            model=OpenAIChatCompletionsModel(model="auto", openai_client=client),
        )
        result = await Runner.run(agent, ask, max_turns=4)
    return str(result.final_output), answers, calls


def test_openai_agents_sdk_simple_turns_go_small(agent_router: str) -> None:
    output, answers, calls = asyncio.run(agents_sdk_run(agent_router, SIMPLE_ASK))
    assert calls  # the SDK ran the tool the model chose
    assert "21 C and sunny" in output  # and the second call answered from its result
    assert [r.headers["x-router-tier"] for r in answers] == ["small", "small"]
    assert all(r.headers["x-router-deployment"] == "Phi-4-mini" for r in answers)


def test_openai_agents_sdk_planning_turns_go_large(agent_router: str) -> None:
    output, answers, calls = asyncio.run(agents_sdk_run(agent_router, PLANNING_ASK))
    assert calls
    assert output
    assert [r.headers["x-router-tier"] for r in answers] == ["large", "large"]
    assert {r.headers["x-router-reason"] for r in answers} == {"hard ask"}


def langchain_loop(base_url: str, ask: str) -> tuple[list[dict[str, Any]], str]:
    @tool
    def get_weather(city: str) -> str:
        """The current weather in a city."""
        return weather(city)

    llm = ChatOpenAI(
        model="auto",
        base_url=base_url,
        api_key="unused",
        include_response_headers=True,
        max_retries=0,
    ).bind_tools([get_weather])
    messages: list[BaseMessage] = [HumanMessage(ask)]
    headers: list[dict[str, Any]] = []
    for _ in range(4):
        reply = llm.invoke(messages)
        headers.append(reply.response_metadata["headers"])
        messages.append(reply)
        if not reply.tool_calls:
            return headers, str(reply.content)
        for call in reply.tool_calls:
            messages.append(ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"]))
    raise AssertionError("the tool loop did not end")


def test_langchain_bind_tools_simple_turns_go_small(agent_router: str) -> None:
    headers, answer = langchain_loop(agent_router, SIMPLE_ASK)
    assert "21 C and sunny" in answer
    assert [h["x-router-tier"] for h in headers] == ["small", "small"]


def test_langchain_bind_tools_planning_turns_go_large(agent_router: str) -> None:
    headers, answer = langchain_loop(agent_router, PLANNING_ASK)
    assert answer
    assert [h["x-router-tier"] for h in headers] == ["large", "large"]
