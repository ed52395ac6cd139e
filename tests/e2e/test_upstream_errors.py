"""An upstream error the caller gets explains itself like an answer: the x-router-* headers
name the tier and deployment that refused and why that tier was chosen, on chat completions
and the Responses API, JSON and streaming."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import WEATHER_ASK as ASK
from tests.conftest import WEATHER_TOOL, Emulator

RESPONSES_TOOL = {
    "type": "function",
    "name": "get_weather",
    "parameters": WEATHER_TOOL["function"]["parameters"],
}


def post(router: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    """POST, reading the whole answer (a refused stream is a JSON error, not events)."""
    with router.stream("POST", path, json=body) as reply:
        reply.read()
    return reply


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", {"model": "small", "messages": ASK, "tools": [WEATHER_TOOL]}),
        ("/v1/responses", {"model": "small", "input": ASK, "tools": [RESPONSES_TOOL]}),
    ],
    ids=["chat", "responses"],
)
def test_a_pinned_tiers_refusal_names_the_tier_and_the_pin(
    router: httpx.Client, emulator: Emulator, path: str, body: dict[str, Any], stream: bool
) -> None:
    # Phi-4-mini refuses tools (as on Foundry): the pin is kept, its 400 reaches the caller.
    reply = post(router, path, {**body, "stream": stream})
    assert reply.status_code == 400, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.headers["x-router-tier"] == "small"
    assert reply.headers["x-router-deployment"] == "Phi-4-mini"
    assert reply.headers["x-router-decided-by"] == "pin"
    assert reply.headers["x-router-reason"]
    assert "x-router-score" not in reply.headers  # a pin has no score
    assert "tool choice" in reply.json()["error"]["message"]
    assert [(r["deployment"], r["status"]) for r in emulator.requests()] == [("Phi-4-mini", 400)]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/v1/chat/completions",
            {"model": "auto", "messages": [{"role": "user", "content": "hi"}]},
        ),
        ("/v1/responses", {"model": "auto", "input": "hi"}),
    ],
    ids=["chat", "responses"],
)
def test_a_routed_requests_refusal_carries_the_scorers_decision(
    router: httpx.Client, emulator: Emulator, path: str, body: dict[str, Any], stream: bool
) -> None:
    emulator.fault("Phi-4-mini", "content_filter")
    reply = post(router, path, {**body, "stream": stream})
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["code"] == "content_filter"
    assert reply.headers["x-router-tier"] == "small"
    assert reply.headers["x-router-deployment"] == "Phi-4-mini"
    assert reply.headers["x-router-decided-by"] == "scorer"
    assert 0 <= float(reply.headers["x-router-score"]) < 0.5
    assert reply.headers["x-router-reason"]


def test_a_bad_body_is_refused_before_any_decision_and_says_none(router: httpx.Client) -> None:
    reply = router.post("/v1/chat/completions", json={"model": "auto", "messages": []})
    assert reply.status_code == 400
    assert not [name for name in reply.headers if name.startswith("x-router-")]
