"""Decisions, pins, the classifier path and its cache, over real HTTP through the router."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import Emulator, StartRouter


def chat(text: str, model: str = "auto", **extra: object) -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def test_hi_goes_to_the_small_tier_decided_by_the_scorer(router: httpx.Client) -> None:
    response = router.post("/v1/chat/completions", json=chat("hi"))
    assert response.status_code == 200
    assert response.headers["x-router-tier"] == "small"
    assert response.headers["x-router-deployment"] == "Phi-4-mini"
    assert response.headers["x-router-decided-by"] == "scorer"
    assert response.headers["x-router-reason"]
    body = response.json()
    assert body["model"] == "Phi-4-mini"
    assert body["choices"][0]["message"]["content"]
    assert body["usage"]["total_tokens"] > 0
    assert float(response.headers["x-router-cost-usd"]) > 0


def test_multi_step_planning_goes_to_the_large_tier(router: httpx.Client) -> None:
    ask = (
        "Plan a migration of our billing service from MySQL to Postgres: first list the risks, "
        "then design the cut-over in steps, then estimate the downtime."
    )
    response = router.post("/v1/chat/completions", json=chat(ask))
    assert response.status_code == 200
    assert response.headers["x-router-tier"] == "large"
    assert response.json()["model"] == "gpt-5"


TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]


def test_default_tiers_send_tools_to_the_tier_that_takes_them(router: httpx.Client) -> None:
    # Foundry's Phi-4-mini takes no tools: a simple turn with tools goes to the small tier that
    # takes them (gpt-5-nano), not to GPT-5, and the reason says why.
    decision = router.post("/route", json=chat("what's up", tools=TOOLS)).json()
    assert decision["tier"] == "small-tools"
    assert decision["decided_by"] == "scorer"
    assert decision["reason"].endswith("needs tools -> small-tools")
    assert decision["score"] < 0.5  # the scorer itself said small


def test_a_responses_body_is_routed_as_its_chat_form_is(router: httpx.Client) -> None:
    # what the Responses API would do with it, decided without calling a model
    hi = router.post("/route", json={"model": "auto", "input": "hi"})
    assert hi.status_code == 200, hi.text
    assert (hi.json()["tier"], hi.json()["decided_by"]) == ("small", "scorer")
    flat_tools = [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}]
    turn = {"model": "auto", "input": [{"role": "user", "content": "what's up"}]}
    responses = router.post("/route", json={**turn, "tools": flat_tools}).json()
    chat_form = router.post("/route", json=chat("what's up", tools=TOOLS)).json()
    assert responses["tier"] == chat_form["tier"] == "small-tools"
    assert (responses["reason"], responses["score"]) == (chat_form["reason"], chat_form["score"])
    ask = "Plan a migration of our billing service from MySQL to Postgres in phases."
    plan = router.post("/route", json={"model": "auto", "instructions": "Be brief.", "input": ask})
    assert plan.json()["tier"] == "large"
    # a turn that continues a stored conversation is decided on the whole of it
    stored = router.post("/v1/responses", json={"model": "auto", "input": ask}).json()
    follow = {"model": "auto", "previous_response_id": stored["id"], "input": "And the risks?"}
    continued = router.post("/route", json=follow)
    assert continued.status_code == 200, continued.text
    answer = stored["output"][-1]["content"][0]["text"]
    thread = [
        {"role": "user", "content": ask},
        {"role": "assistant", "content": answer},
        {"role": "user", "content": "And the risks?"},
    ]
    whole = router.post("/route", json={"model": "auto", "messages": thread}).json()
    alone = router.post("/route", json=chat("And the risks?")).json()
    assert (continued.json()["reason"], continued.json()["score"]) == (
        whole["reason"],
        whole["score"],
    )
    assert continued.json()["score"] != alone["score"]


def test_a_responses_body_is_refused_at_route_as_the_responses_api_refuses_it(
    router: httpx.Client,
) -> None:
    unknown = {"model": "auto", "previous_response_id": "resp_unknown", "input": "and then?"}
    missing = router.post("/route", json=unknown)
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "previous_response_not_found"
    # no default tier runs a built-in tool: the answer would be refused, so is the decision
    web = {"model": "auto", "input": "Any news today?", "tools": [{"type": "web_search"}]}
    refused = router.post("/route", json=web)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "unsupported_tool"
    assert router.post("/v1/responses", json=web).json()["error"] == refused.json()["error"]


@pytest.fixture(scope="module")
def three_tier_router(start_module_router: StartRouter) -> str:
    """small (Phi-4-mini, text only), mid (gpt-5-nano, takes tools), large: the cheapest tier
    that can take the turn."""
    tiers = [
        {"name": "small", "deployment": "Phi-4-mini", "input_price_per_1m": 0.075},
        {
            "name": "mid",
            "deployment": "gpt-5-nano",
            "input_price_per_1m": 0.05,
            "output_price_per_1m": 0.40,
            "capabilities": ["reasoning", "tools", "json_schema"],
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
    return start_module_router(ROUTER_TIERS=json.dumps(tiers))


def test_a_mid_tier_takes_simple_tool_turns(three_tier_router: str, emulator: Emulator) -> None:
    url = f"{three_tier_router}/api/v1/chat/completions"
    simple = httpx.post(url, json=chat("What is the capital of France?", tools=TOOLS))
    planning = httpx.post(url, json=chat("Plan a three-step migration to Postgres", tools=TOOLS))
    plain = httpx.post(url, json=chat("hi"))
    assert (simple.status_code, simple.headers["x-router-tier"]) == (200, "mid")
    assert simple.json()["model"] == "gpt-5-nano"
    assert planning.headers["x-router-tier"] == "large"
    assert planning.headers["x-router-reason"] == "hard ask"
    assert plain.headers["x-router-tier"] == "small"
    assert [r["deployment"] for r in emulator.requests()] == ["gpt-5-nano", "gpt-5", "Phi-4-mini"]


def test_an_image_goes_to_a_tier_that_sees(router: httpx.Client) -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    parts = [{"type": "text", "text": "what is this?"}, image]
    decision = router.post("/route", json=chat("", messages=[{"role": "user", "content": parts}]))
    assert decision.json()["tier"] == "small-tools"  # gpt-5-nano takes images, Phi-4-mini not
    assert "needs vision" in decision.json()["reason"]


@pytest.mark.parametrize(("model", "tier"), [("small", "small"), ("gpt-5", "large")])
def test_pinned_models_skip_routing(router: httpx.Client, model: str, tier: str) -> None:
    response = router.post("/v1/chat/completions", json=chat("hi", model=model))
    assert response.headers["x-router-decided-by"] == "pin"
    assert response.headers["x-router-tier"] == tier


def test_route_endpoint_returns_the_decision_alone(
    router: httpx.Client, emulator: Emulator
) -> None:
    decision = router.post("/route", json=chat("hello!")).json()
    assert decision["tier"] == "small"
    assert decision["deployment"] == "Phi-4-mini"
    assert decision["decided_by"] == "scorer"
    assert 0 <= decision["score"] <= 1
    assert emulator.requests() == []  # no model was called


@pytest.fixture(scope="module")
def classifier_router(start_module_router: StartRouter) -> str:
    """A router whose scorer never decides: every routed request asks the small model."""
    # Generous: a busy CI machine must not turn a classifier answer into a timeout.
    return start_module_router(ROUTER_PRESET="classifier", ROUTER_CLASSIFIER_TIMEOUT_MS="1500")


def test_classifier_decides_and_its_verdict_is_cached(
    classifier_router: str, emulator: Emulator
) -> None:
    url = f"{classifier_router}/api/route"
    first = httpx.post(url, json=chat("What are your opening hours?")).json()
    again = httpx.post(url, json=chat("  what are your OPENING hours? ")).json()
    hard = httpx.post(url, json=chat("Calculate 17 * 23 and explain each step")).json()
    assert (first["tier"], first["decided_by"]) == ("small", "classifier")
    assert first["classifier_ms"] is not None
    assert (again["tier"], again["decided_by"]) == ("small", "cache")
    assert (hard["tier"], hard["decided_by"]) == ("large", "classifier")
    asked = emulator.requests("Phi-4-mini")
    assert len(asked) == 2  # the cached question was not asked again
    sent = asked[0]["body"]
    assert sent["temperature"] == pytest.approx(0.1)
    assert sent["top_p"] > 0.8
    assert sent["max_tokens"] <= 10
    assert sent["messages"][0]["role"] == "system"


@pytest.mark.parametrize(("answer", "tier"), [("**Simple.**", "small"), ("banana", "large")])
def test_classifier_answers_are_parsed_robustly(
    classifier_router: str, emulator: Emulator, answer: str, tier: str
) -> None:
    emulator.fault("Phi-4-mini", "classify_answer", text=answer)
    decision = httpx.post(f"{classifier_router}/api/route", json=chat(f"q {answer}")).json()
    assert decision["tier"] == tier
    assert decision["decided_by"] == ("classifier" if tier == "small" else "default")


def test_classifier_timeout_falls_back_to_the_safe_default(
    classifier_router: str, emulator: Emulator
) -> None:
    emulator.fault("Phi-4-mini", "slow_first_token", delay_ms=6000)
    decision = httpx.post(f"{classifier_router}/api/route", json=chat("where is my parcel")).json()
    assert (decision["tier"], decision["decided_by"]) == ("large", "default")
    assert "timeout" in decision["reason"]
    assert 1400 <= decision["classifier_ms"] < 6000


def test_deployments_url_shape(start_router: StartRouter, emulator: Emulator) -> None:
    tiers = (
        '[{"name": "small", "deployment": "Phi-4-mini", "url_shape": "deployments"},'
        ' {"name": "large", "deployment": "gpt-5", "url_shape": "deployments",'
        '  "capabilities": ["reasoning"]}]'
    )
    url = start_router(ROUTER_TIERS=tiers)
    response = httpx.post(f"{url}/api/v1/chat/completions", json=chat("hi"))
    assert response.status_code == 200
    (sent,) = emulator.requests("Phi-4-mini")
    assert sent["path"] == "/openai/deployments/Phi-4-mini/chat/completions"
    assert "api-version" in sent["query"]


def test_a_session_that_escalated_stays_large(router: httpx.Client) -> None:
    session = {"x-router-session": "conversation-42"}
    hard = chat("Write a Python function that merges two sorted lists, with tests")
    assert router.post("/route", json=hard, headers=session).json()["tier"] == "large"
    follow_up = router.post("/route", json=chat("thanks!"), headers=session).json()
    assert (follow_up["tier"], follow_up["decided_by"]) == ("large", "session")
    other = router.post("/route", json=chat("thanks!")).json()
    assert other["tier"] == "small"  # without the session, "thanks" is small work


def test_the_user_field_keys_the_session(router: httpx.Client) -> None:
    hard = chat("Design a step by step plan to shard our database", user="alice")
    assert router.post("/route", json=hard).json()["tier"] == "large"
    again = router.post("/route", json=chat("ok, thanks", user="alice")).json()
    assert again["decided_by"] == "session"
