"""Streaming: SSE framing, chunk shapes, include_usage, pacing."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import openai

from tests.emulator.helpers import API_KEY, API_VERSION, KEY, chat, settings


def stream_text(client: httpx.Client, deployment: str = "Phi-4-mini", **body: Any) -> str:
    with client.stream(
        "POST",
        f"/openai/deployments/{deployment}/chat/completions",
        params={"api-version": API_VERSION},
        json={"messages": [{"role": "user", "content": "Tell me about otters"}], **body},
        headers=KEY,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["x-ratelimit-remaining-tokens"].isdigit()
        return response.read().decode()


def parse(text: str) -> tuple[list[dict[str, Any]], str]:
    """Events must be exactly `data: <payload>` blocks separated by blank lines."""
    assert text.endswith("\n\n")
    blocks = text[:-2].split("\n\n")
    assert all(b.startswith("data: ") and "\n" not in b for b in blocks)
    payloads = [b[len("data: ") :] for b in blocks]
    return [json.loads(p) for p in payloads[:-1]], payloads[-1]


def test_stream_framing_and_chunks(client: httpx.Client) -> None:
    chunks, last = parse(stream_text(client, stream=True))
    assert last == "[DONE]"
    ids = {c["id"] for c in chunks}
    assert len(ids) == 1
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert all(c["model"] == "Phi-4-mini-instruct" for c in chunks)
    assert all("usage" not in c for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"][0] == {
        "index": 0,
        "delta": {},
        "finish_reason": "stop",
        "logprobs": None,
    }
    content = chunks[1:-1]
    assert len(content) > 3
    assert all(c["choices"][0]["finish_reason"] is None for c in content)
    text = "".join(c["choices"][0]["delta"]["content"] for c in content)
    whole = chat(client, content="Tell me about otters").json()
    assert text == whole["choices"][0]["message"]["content"]


def test_include_usage_adds_a_final_usage_chunk(client: httpx.Client) -> None:
    chunks, last = parse(stream_text(client, stream=True, stream_options={"include_usage": True}))
    assert last == "[DONE]"
    *rest, usage_chunk = chunks
    assert usage_chunk["choices"] == []
    whole = chat(client, content="Tell me about otters").json()
    assert usage_chunk["usage"] == whole["usage"]
    assert all(c["usage"] is None for c in rest)
    assert rest[-1]["choices"][0]["finish_reason"] == "stop"


def test_stream_respects_max_tokens(client: httpx.Client) -> None:
    chunks, _ = parse(stream_text(client, stream=True, max_tokens=2))
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert len(text) <= 8
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_streamed_tool_call(client: httpx.Client) -> None:
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {}}}
    with client.stream(
        "POST",
        "/openai/deployments/gpt-4o/chat/completions",
        params={"api-version": API_VERSION},
        json={
            "messages": [{"role": "user", "content": "use the lookup tool"}],
            "tools": [tool],
            "stream": True,
        },
        headers=KEY,
    ) as response:
        chunks, last = parse(response.read().decode())
    assert last == "[DONE]"
    (call,) = chunks[1]["choices"][0]["delta"]["tool_calls"]
    assert call["index"] == 0
    assert call["function"]["name"] == "lookup"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_tokens_are_paced_after_the_first(client: httpx.Client) -> None:
    # 400 ms at speed 0.5 = 200 ms: 30% before the first token, the rest between tokens.
    settings(client, speed=0.5, deployments={"Phi-4-mini": {"latency_ms": [400, 400]}})
    arrivals: list[float] = []
    start = time.perf_counter()
    with client.stream(
        "POST",
        "/openai/deployments/Phi-4-mini/chat/completions",
        params={"api-version": API_VERSION},
        json={"messages": [{"role": "user", "content": "hi"}], "stream": True},
        headers=KEY,
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                arrivals.append(time.perf_counter() - start)
    assert arrivals[0] >= 0.06
    assert arrivals[-1] >= 0.2
    assert arrivals[-1] - arrivals[0] >= 0.1


def test_openai_sdk_reads_the_stream(client: httpx.Client, base_url: str) -> None:
    sdk = openai.AzureOpenAI(
        azure_endpoint=base_url, api_key=API_KEY, api_version=API_VERSION, max_retries=0
    )
    stream = sdk.chat.completions.create(
        model="gpt-5",
        messages=[{"role": "user", "content": "Hello"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("[gpt-5] ")
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0
