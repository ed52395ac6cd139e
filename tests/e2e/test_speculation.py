"""The answer starts on the small tier while the classifier decides, over real HTTP.

The routers here leave every request to the classifier (ROUTER_PRESET=classifier); the
emulator's keyword classifier answers "simple" or "complex" by the wording, and its
`slow_first_token` fault holds a deployment's answer back so that the order of the calls shows
in the times the emulator received them.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import Emulator, StartRouter

SIMPLE = "What's the status of order 42?"  # the emulator's classifier: simple
COMPLEX = "Plan the rollout in three steps"  # "plan", "steps": complex
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_order",
            "description": "Look up an order by its id.",
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "string"}},
                "required": ["order_id"],
            },
        },
    }
]
HOLD_S = 1.5  # how long a held-back deployment waits before it answers
# the classifier held back a little: the started call reaches the emulator before the verdict
BRIEF_S = 0.3


# Every request asks the classifier: no scorer, no remembered verdicts; time enough to wait.
CLASSIFIED = {
    "ROUTER_PRESET": "classifier",
    "ROUTER_CLASSIFIER_CACHE_TTL_S": "0",
    "ROUTER_CLASSIFIER_TIMEOUT_MS": "5000",
}


def chat(text: str, **extra: object) -> dict[str, object]:
    messages = [{"role": "user", "content": text}]
    return {"model": "auto", "messages": messages, "tools": TOOLS, **extra}


@pytest.fixture(scope="module")
def speculating(start_module_router: StartRouter) -> str:
    return start_module_router(**CLASSIFIED)


@pytest.fixture(scope="module")
def waiting(start_module_router: StartRouter) -> str:
    return start_module_router(**CLASSIFIED, ROUTER_SPECULATE="off")


def hold(emulator: Emulator, deployment: str, seconds: float = HOLD_S) -> None:
    emulator.fault(deployment, "slow_first_token", delay_ms=int(seconds * 1000))


def started(emulator: Emulator, deployment: str) -> float:
    """When the emulator received the one request to `deployment`."""
    (request,) = emulator.requests(deployment)
    return float(request["started_at"])


def sse_text(response: httpx.Response) -> str:
    """The streamed content of a chat completions stream, joined."""
    text = []
    for line in response.text.splitlines():
        if line.startswith("data: {"):
            for choice in json.loads(line[6:]).get("choices") or []:
                text.append((choice.get("delta") or {}).get("content") or "")
    return "".join(text)


def answered_by(url: str, text: str, stream: bool, tier: str, deployment: str) -> None:
    """Ask `text` as chat (JSON or stream): the classifier decided it, `tier` answered."""
    response = httpx.post(
        f"{url}/api/v1/chat/completions", json=chat(text, stream=stream), timeout=30
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-router-tier"] == tier
    assert response.headers["x-router-decided-by"] == "classifier"
    if stream:
        assert "data: [DONE]" in response.text
        assert sse_text(response)
    else:
        assert response.json()["model"] == deployment


@pytest.mark.parametrize("stream", [False, True])
def test_a_simple_verdict_answers_with_the_call_started_beside_the_classifier(
    speculating: str, emulator: Emulator, stream: bool
) -> None:
    hold(emulator, "Phi-4-mini")  # the classifier answers after HOLD_S
    answered_by(speculating, SIMPLE, stream, "small-tools", "gpt-5-nano")
    # gpt-5-nano was asked once, while the classifier was still held back
    assert started(emulator, "gpt-5-nano") - started(emulator, "Phi-4-mini") < HOLD_S
    assert emulator.requests("gpt-5") == []


def test_without_speculation_the_answer_waits_for_the_verdict(
    waiting: str, emulator: Emulator
) -> None:
    hold(emulator, "Phi-4-mini")
    response = httpx.post(f"{waiting}/api/v1/chat/completions", json=chat(SIMPLE), timeout=30)
    assert response.headers["x-router-tier"] == "small-tools"
    assert started(emulator, "gpt-5-nano") - started(emulator, "Phi-4-mini") >= HOLD_S


@pytest.mark.parametrize("stream", [False, True])
def test_a_complex_verdict_drops_the_started_call_and_asks_the_large_tier(
    speculating: str, emulator: Emulator, stream: bool
) -> None:
    hold(emulator, "gpt-5-nano")  # the started call is still under way at the verdict
    hold(emulator, "Phi-4-mini", BRIEF_S)
    answered_by(speculating, COMPLEX, stream, "large", "gpt-5")
    # GPT-5 was asked without waiting for the dropped call to answer
    assert started(emulator, "gpt-5") - started(emulator, "gpt-5-nano") < HOLD_S


def test_the_responses_api_stores_only_the_answer_it_gives(
    speculating: str, emulator: Emulator
) -> None:
    hold(emulator, "gpt-5-nano")
    hold(emulator, "Phi-4-mini", BRIEF_S)
    tools = [{"type": "function", **TOOLS[0]["function"]}]
    body = {"model": "auto", "input": COMPLEX, "tools": tools}
    response = httpx.post(f"{speculating}/api/v1/responses", json=body, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["x-router-tier"] == "large"
    stored = httpx.get(f"{speculating}/api/v1/responses/{response.json()['id']}", timeout=10)
    assert stored.status_code == 200
    assert stored.json()["model"] == "gpt-5"
    assert stored.json()["output"] == response.json()["output"]
    assert len(emulator.requests("gpt-5-nano")) == 1  # the dropped call, asked once


def test_the_route_endpoint_calls_no_model_but_the_classifier(
    speculating: str, emulator: Emulator
) -> None:
    decision = httpx.post(f"{speculating}/api/route", json=chat(SIMPLE), timeout=30).json()
    assert decision["tier"] == "small-tools"
    assert [r["deployment"] for r in emulator.requests()] == ["Phi-4-mini"]


# The small tool tier fails over to the large one: a call started early could reach GPT-5.
FAILING_OVER = [
    {"name": "small", "deployment": "Phi-4-mini", "input_price_per_1m": 0.075},
    {
        "name": "small-tools",
        "deployment": "gpt-5-nano",
        "input_price_per_1m": 0.05,
        "capabilities": ["tools"],
        "fallbacks": ["large"],
    },
    {"name": "large", "deployment": "gpt-5", "input_price_per_1m": 1.25, "capabilities": ["tools"]},
]


def test_a_call_started_early_never_fails_over_to_the_large_tier(
    start_router: StartRouter, emulator: Emulator
) -> None:
    # Failed over, it would ask GPT-5 before a complex verdict asks it again.
    url = start_router(**CLASSIFIED, ROUTER_TIERS=json.dumps(FAILING_OVER), ROUTER_MAX_ATTEMPTS="1")
    emulator.fault("gpt-5-nano", "server_error", times=None)
    hold(emulator, "Phi-4-mini", BRIEF_S)
    answered_by(url, COMPLEX, False, "large", "gpt-5")
    assert len(emulator.requests("gpt-5-nano")) == 1
    assert len(emulator.requests("gpt-5")) == 1


@pytest.mark.parametrize("stream", [False, True])
def test_a_simple_verdict_whose_early_call_failed_is_sent_again(
    speculating: str, emulator: Emulator, stream: bool
) -> None:
    emulator.fault("gpt-5-nano", "server_error")  # the early call's one attempt
    hold(emulator, "Phi-4-mini", BRIEF_S)
    answered_by(speculating, SIMPLE, stream, "small-tools", "gpt-5-nano")
    assert len(emulator.requests("gpt-5-nano")) == 2


def test_a_request_the_tier_refused_is_not_sent_again(speculating: str, emulator: Emulator) -> None:
    emulator.fault("gpt-5-nano", "content_filter")
    hold(emulator, "Phi-4-mini", BRIEF_S)
    response = httpx.post(f"{speculating}/api/v1/chat/completions", json=chat(SIMPLE), timeout=30)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "content_filter"
    assert len(emulator.requests("gpt-5-nano")) == 1


def test_no_answer_starts_early_on_a_tier_whose_breaker_is_open(
    start_router: StartRouter, emulator: Emulator
) -> None:
    # Nothing starts early there (the span says so: test_spans_and_metrics); the request goes
    # as any other, and GPT-5 is asked once.
    url = start_router(
        **CLASSIFIED,
        ROUTER_TIERS=json.dumps(FAILING_OVER),
        ROUTER_BREAKER_FAILURES="1",
        ROUTER_MAX_ATTEMPTS="1",
    )
    emulator.fault("gpt-5-nano", "server_error", times=None)
    first = httpx.post(f"{url}/api/v1/chat/completions", json=chat(SIMPLE), timeout=30)
    assert first.status_code == 200, first.text
    assert first.json()["model"] == "gpt-5"  # gpt-5-nano failed: failed over, breaker open
    health = httpx.get(f"{url}/api/health/details", timeout=10).json()["deployments"]
    assert health["small-tools"]["breaker"] == "open"
    asked_large = len(emulator.requests("gpt-5"))
    hold(emulator, "Phi-4-mini", BRIEF_S)
    second = httpx.post(f"{url}/api/v1/chat/completions", json=chat(COMPLEX), timeout=30)
    assert second.headers["x-router-tier"] == "large"
    assert len(emulator.requests("gpt-5")) == asked_large + 1  # asked once, after the verdict
