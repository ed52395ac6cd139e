import json

import pytest

from shared.api import ApiError
from shared.routing.classifier import Verdict
from shared.routing.eligibility import chat_needs
from shared.routing.policy import (
    Abstained,
    Decision,
    decide_from_verdict,
    decide_locally,
    eligible,
    loop_start,
)
from shared.routing.scorer import Score
from shared.settings import load_settings

ENV = {"FOUNDRY_ENDPOINT": "https://a.openai.azure.com", "FOUNDRY_API_KEY": "k"}
SETTINGS = load_settings(ENV)
TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]


def user(text: str) -> list[dict[str, object]]:
    return [{"role": "user", "content": text}]


def tool_turn(ask: str, result: str) -> list[dict[str, object]]:
    call = {"id": "1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
    return [
        *user(ask),
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "1", "content": result},
    ]


def test_greeting_goes_small_by_the_scorer() -> None:
    decision = decide_locally(SETTINGS, "auto", user("hi"))
    assert isinstance(decision, Decision)
    assert (decision.tier, decision.decided_by) == ("small", "scorer")


def test_tools_alone_do_not_make_a_turn_large() -> None:
    decision = decide_locally(SETTINGS, "auto", user("What is the capital of France?"), TOOLS)
    assert isinstance(decision, Decision)
    assert (decision.tier, decision.decided_by) == ("small", "scorer")


def test_a_planning_turn_with_tools_goes_large() -> None:
    decision = decide_locally(SETTINGS, "auto", user("Plan a three-step migration"), TOOLS)
    assert isinstance(decision, Decision)
    assert (decision.tier, decision.reason) == ("large", "hard ask")


@pytest.mark.parametrize(("model", "tier"), [("small", "small"), ("gpt-5", "large")])
def test_pins_by_tier_or_deployment(model: str, tier: str) -> None:
    decision = decide_locally(SETTINGS, model, user("hi"))
    assert isinstance(decision, Decision)
    assert (decision.tier, decision.decided_by) == (tier, "pin")


def test_unknown_model_lists_the_valid_ones() -> None:
    with pytest.raises(ApiError) as failure:
        decide_locally(SETTINGS, "gpt-9", user("hi"))
    assert failure.value.status == 400
    assert failure.value.param == "model"
    for valid in ("auto", "small", "large", "Phi-4-mini", "gpt-5"):
        assert valid in failure.value.message


def test_verdicts_map_to_tiers() -> None:
    score = Score(0.5, "unsure")
    simple = decide_from_verdict(SETTINGS, score, Verdict("simple", "classifier", 80.0))
    cached = decide_from_verdict(SETTINGS, score, Verdict("complex", "cache", 0.0))
    timeout = decide_from_verdict(SETTINGS, score, Verdict(None, "timeout", 1000.0))
    assert (simple.tier, simple.decided_by, simple.classifier_ms) == ("small", "classifier", 80.0)
    assert (cached.tier, cached.decided_by) == ("large", "cache")
    assert (timeout.tier, timeout.decided_by) == ("large", "default")
    assert "timeout" in timeout.reason


def test_the_classifier_preset_describes_the_agent_turn() -> None:
    settings = load_settings({**ENV, "ROUTER_PRESET": "classifier"})
    local = decide_locally(settings, "auto", tool_turn("weather in Paris?", "21 C"), TOOLS)
    assert isinstance(local, Abstained)
    assert local.text.startswith("[agent turn: 1 tools offered; 1 tool results")
    assert local.text.endswith("weather in Paris?")
    plain = decide_locally(settings, "auto", user("hello there"))
    assert isinstance(plain, Abstained)
    assert plain.text == "hello there"


def test_an_escalated_session_stays_large() -> None:
    decision = decide_locally(SETTINGS, "auto", user("hi"), session_tier="large")
    assert isinstance(decision, Decision)
    assert (decision.tier, decision.decided_by) == ("large", "session")


def test_per_turn_reads_a_tool_result_turn_on_its_own() -> None:
    # the loop began with a hard ask (large); reading its short result is decided afresh
    loop = tool_turn("Plan a three-step migration to Postgres", "ok")
    decision = decide_locally(SETTINGS, "auto", loop, TOOLS, session_tier="small")
    assert isinstance(decision, Decision)
    assert decision.decided_by == "scorer"
    assert decision.reason == "hard ask"  # the ask the results answer is still the user's


def test_sticky_keeps_a_tool_loop_on_the_tier_that_started_it() -> None:
    sticky = load_settings({**ENV, "ROUTER_TOOL_LOOP": "sticky"})
    loop = tool_turn("look it up", "42")
    remembered = decide_locally(sticky, "auto", loop, TOOLS, session_tier="small")
    assert isinstance(remembered, Decision)
    assert (remembered.tier, remembered.decided_by) == ("small", "session")
    stateless = decide_locally(sticky, "auto", tool_turn("look it up", "x " * 4000), TOOLS)
    assert isinstance(stateless, Decision)
    # without a session, the opening turn is scored: the long result does not move the loop
    assert stateless.tier == "small"
    assert stateless.reason.startswith("tool-call loop: ")


def test_loop_start_is_the_conversation_up_to_the_last_user_message() -> None:
    loop = tool_turn("look it up", "42")
    assert loop_start(loop) == loop[:1]
    assert loop_start(user("a")) == user("a")
    assert loop_start([]) == []


def test_a_small_session_is_routed_afresh() -> None:
    decision = decide_locally(SETTINGS, "auto", user("hi"), TOOLS, session_tier="small")
    assert isinstance(decision, Decision)
    assert decision.decided_by == "scorer"


def test_pins_beat_the_session() -> None:
    decision = decide_locally(SETTINGS, "small", user("hi"), session_tier="large")
    assert isinstance(decision, Decision)
    assert (decision.tier, decision.decided_by) == ("small", "pin")


def test_default_tiers_send_tools_to_the_tier_that_takes_them() -> None:
    # Phi-4-mini on Foundry takes no tools (settings.SMALL_DEFAULT): a simple agent turn moves
    # one rung up, to the small model that calls tools, never to GPT-5
    small = Decision("small", "scorer", "short input", 0.01)
    with_tools = chat_needs({"messages": user("hi"), "tools": TOOLS})
    moved = eligible(SETTINGS, small, with_tools)
    assert moved.tier == "small-tools"
    assert moved.reason == "short input; needs tools -> small-tools"
    kept = eligible(SETTINGS, small, chat_needs({"messages": user("hi")}))
    assert kept == small
    # a complex agent turn stays on GPT-5: nothing cheaper is "at or above" the large tier
    large = Decision("large", "scorer", "planning", 0.9)
    assert eligible(SETTINGS, large, with_tools) == large
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}
    structured = chat_needs({"messages": user("hi"), "response_format": schema})
    assert eligible(SETTINGS, small, structured).tier == "small-tools"


def test_a_pin_is_never_moved() -> None:
    pin = Decision("small", "pin", "model small requested")
    assert eligible(SETTINGS, pin, chat_needs({"messages": user("hi"), "tools": TOOLS})) == pin


def test_a_mid_tier_takes_tool_turns_the_small_one_cannot() -> None:
    tiers = [
        {"name": "small", "deployment": "Phi-4-mini", "input_price_per_1m": 0.075},
        {
            "name": "mid",
            "deployment": "gpt-5-mini",
            "input_price_per_1m": 0.25,
            "output_price_per_1m": 2.0,
            "capabilities": ["tools", "reasoning"],
        },
        {
            "name": "large",
            "deployment": "gpt-5",
            "input_price_per_1m": 1.25,
            "output_price_per_1m": 10.0,
            "capabilities": ["tools", "reasoning", "vision"],
        },
    ]
    settings = load_settings({**ENV, "ROUTER_TIERS": json.dumps(tiers)})
    needs = chat_needs({"messages": user("hi"), "tools": TOOLS})
    assert eligible(settings, Decision("small", "scorer", "x"), needs).tier == "mid"
    assert eligible(settings, Decision("large", "scorer", "x"), needs).tier == "large"
