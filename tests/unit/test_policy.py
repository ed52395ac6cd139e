import pytest

from shared.api import ApiError
from shared.routing.classifier import Verdict
from shared.routing.policy import Decision, decide_from_verdict, decide_locally
from shared.routing.scorer import Score
from shared.settings import load_settings

SETTINGS = load_settings({"FOUNDRY_ENDPOINT": "https://a.openai.azure.com", "FOUNDRY_API_KEY": "k"})


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_greeting_goes_small_by_the_scorer() -> None:
    decision = decide_locally(SETTINGS, "auto", user("hi"), has_tools=False)
    assert isinstance(decision, Decision)
    assert (decision.tier, decision.decided_by) == ("small", "scorer")


def test_tools_go_large_by_the_scorer() -> None:
    decision = decide_locally(SETTINGS, "auto", user("what's the weather"), has_tools=True)
    assert isinstance(decision, Decision)
    assert (decision.tier, decision.decided_by) == ("large", "scorer")


@pytest.mark.parametrize(("model", "tier"), [("small", "small"), ("gpt-5", "large")])
def test_pins_by_tier_or_deployment(model: str, tier: str) -> None:
    decision = decide_locally(SETTINGS, model, user("hi"), has_tools=False)
    assert isinstance(decision, Decision)
    assert (decision.tier, decision.decided_by) == (tier, "pin")


def test_unknown_model_lists_the_valid_ones() -> None:
    with pytest.raises(ApiError) as failure:
        decide_locally(SETTINGS, "gpt-9", user("hi"), has_tools=False)
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


def test_an_escalated_session_stays_large() -> None:
    decision = decide_locally(SETTINGS, "auto", user("hi"), has_tools=False, session_tier="large")
    assert isinstance(decision, Decision)
    assert (decision.tier, decision.decided_by) == ("large", "session")


def test_a_tool_loop_stays_on_the_tier_that_started_it() -> None:
    loop = [*user("look it up"), {"role": "tool", "tool_call_id": "1", "content": "42"}]
    decision = decide_locally(SETTINGS, "auto", loop, has_tools=True, session_tier="small")
    assert isinstance(decision, Decision)
    assert (decision.tier, decision.decided_by) == ("small", "session")


def test_a_small_session_is_routed_afresh() -> None:
    decision = decide_locally(SETTINGS, "auto", user("hi"), has_tools=True, session_tier="small")
    assert isinstance(decision, Decision)
    assert decision.decided_by == "scorer"


def test_pins_beat_the_session() -> None:
    decision = decide_locally(SETTINGS, "small", user("hi"), has_tools=False, session_tier="large")
    assert isinstance(decision, Decision)
    assert (decision.tier, decision.decided_by) == ("small", "pin")
