"""Small request helpers shared by the emulator tests."""

from __future__ import annotations

from typing import Any

import httpx

API_KEY = "emulator-key"
API_VERSION = "2024-10-21"
KEY = {"api-key": API_KEY}


def chat(
    client: httpx.Client,
    deployment: str = "Phi-4-mini",
    content: str = "What is the capital of France?",
    *,
    messages: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> httpx.Response:
    """POST to the deployments URL shape with the API key."""
    default = [{"role": "user", "content": content}]
    payload = {"messages": default if messages is None else messages, **body}
    return client.post(
        f"/openai/deployments/{deployment}/chat/completions",
        params={"api-version": API_VERSION},
        json=payload,
        headers=KEY if headers is None else headers,
    )


def add_fault(client: httpx.Client, **spec: Any) -> dict[str, Any]:
    response = client.post("/control/faults", json=spec)
    assert response.status_code == 201, response.text
    return response.json()


def settings(client: httpx.Client, **overrides: Any) -> dict[str, Any]:
    response = client.post("/control/settings", json=overrides)
    assert response.status_code == 200, response.text
    return response.json()


def sse_events(lines: list[str]) -> list[str]:
    """The payloads of `data:` lines, in order."""
    return [line[len("data: ") :] for line in lines if line.startswith("data: ")]
