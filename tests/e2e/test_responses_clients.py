"""The agent clients whose default is the Responses API, unchanged, against the router: the
OpenAI Agents SDK's default model (a tool loop, streamed and not), agent-framework's
OpenAIChatClient, LangChain's ChatOpenAI(use_responses_api=True)."""

from __future__ import annotations

import asyncio

import pytest
from openai import AsyncOpenAI

from tests.conftest import Emulator

ASK_TOOL = "Please call the tool get_weather for Oslo"


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"rain in {city}"


@pytest.mark.parametrize("model", ["small", "large", "auto"])
@pytest.mark.parametrize("streamed", [False, True])
def test_openai_agents_sdk_tool_loop(
    tools_router_url: str, emulator: Emulator, model: str, streamed: bool
) -> None:
    # The small tier takes tools here (tests/conftest.py TOOL_TIERS): Phi-4-mini refuses them.
    router_url = tools_router_url
    from agents import Agent, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled

    set_tracing_disabled(True)

    async def run() -> str:
        client = AsyncOpenAI(base_url=f"{router_url}/api/v1", api_key="unused", max_retries=0)
        agent = Agent(
            name="weather",
            instructions="Answer briefly.",
            tools=[function_tool(get_weather)],
            model=OpenAIResponsesModel(model=model, openai_client=client),
        )
        if streamed:
            result = Runner.run_streamed(agent, ASK_TOOL)
            async for _ in result.stream_events():
                pass
        else:
            result = await Runner.run(agent, ASK_TOOL)  # type: ignore[assignment]
        kinds = [type(item).__name__ for item in result.new_items]
        assert "ToolCallItem" in kinds
        assert "ToolCallOutputItem" in kinds
        await client.close()
        return str(result.final_output)

    answer = asyncio.run(run())
    assert "Based on the tool result: rain in" in answer
    # Both turns of the loop went through the router and reached a model.
    assert len(emulator.requests()) >= 2


def test_agents_sdk_default_model_is_the_responses_api(router_url: str) -> None:
    from agents import Agent, Runner, set_default_openai_client, set_tracing_disabled

    set_tracing_disabled(True)
    client = AsyncOpenAI(base_url=f"{router_url}/api/v1", api_key="unused", max_retries=0)
    set_default_openai_client(client, use_for_tracing=False)
    agent = Agent(name="plain", instructions="Answer briefly.", model="small")
    result = asyncio.run(Runner.run(agent, "hi"))
    assert str(result.final_output).startswith("[Phi-4-mini]")


def test_agent_framework_openai_chat_client(router_url: str) -> None:
    from agent_framework import Agent
    from agent_framework.openai import OpenAIChatClient

    async def run() -> tuple[str, str]:
        client = OpenAIChatClient(model="auto", api_key="unused", base_url=f"{router_url}/api/v1")
        agent = Agent(client=client, instructions="Answer briefly.", tools=[get_weather])
        looped = await agent.run(ASK_TOOL)
        plain = await agent.run("hi")
        return looped.text, plain.text

    looped, plain = asyncio.run(run())
    assert "Based on the tool result: rain in" in looped
    assert "You asked about: hi" in plain


def test_langchain_chat_openai_with_the_responses_api(router_url: str) -> None:
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(
        model="auto",
        api_key="unused",  # type: ignore[arg-type]
        base_url=f"{router_url}/api/v1",
        use_responses_api=True,
        max_retries=0,
    )
    reply = llm.invoke("hi there")
    assert reply.response_metadata["model_name"] == "Phi-4-mini"
    called = llm.bind_tools([get_weather]).invoke(ASK_TOOL)
    assert [c["name"] for c in called.tool_calls] == ["get_weather"]  # type: ignore[attr-defined]
    streamed = "".join(
        part["text"] if isinstance(part, dict) else str(part)
        for chunk in llm.stream("hi stream")
        for part in (chunk.content if isinstance(chunk.content, list) else [chunk.content])
        if isinstance(part, str) or "text" in part
    )
    assert "hi stream" in streamed
