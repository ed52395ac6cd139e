import pytest

from shared.settings import Tier
from shared.upstream.apis import CHAT, RESPONSES
from shared.upstream.models import shape_for_tier
from shared.upstream.usage import Usage, read_usage

SMALL = Tier("small", "Phi-4-mini", "https://a", input_price_per_1m=0.075, output_price_per_1m=0.3)
LARGE = Tier("large", "gpt-5", "https://a", capabilities=frozenset({"reasoning"}))
CLASSIC = Tier("old", "gpt-4o", "https://a", url_shape="deployments")


def test_reasoning_model_gets_max_completion_tokens_and_no_sampling_knobs() -> None:
    body = {"model": "auto", "messages": [], "max_tokens": 50, "temperature": 0.2, "top_p": 0.9}
    shaped = shape_for_tier(body, LARGE)
    assert shaped.body == {"model": "gpt-5", "messages": [], "max_completion_tokens": 50}
    assert "max_tokens->max_completion_tokens" in shaped.changes
    assert "dropped temperature" in shaped.changes
    assert body["max_tokens"] == 50  # the caller's dict is not mutated


def test_small_model_keeps_sampling_and_uses_max_tokens() -> None:
    body = {"model": "auto", "messages": [], "max_completion_tokens": 7, "temperature": 0.1}
    shaped = shape_for_tier(body, SMALL)
    assert shaped.body == {
        "model": "Phi-4-mini",
        "messages": [],
        "max_tokens": 7,
        "temperature": 0.1,
    }


def test_temperature_zero_with_top_p_zero_is_never_sent() -> None:
    shaped = shape_for_tier({"temperature": 0, "top_p": 0}, SMALL)
    assert shaped.body["temperature"] == 0
    assert shaped.body["top_p"] == 1.0
    assert shaped.changes
    assert shape_for_tier({"temperature": 0, "top_p": 0.5}, SMALL).changes == ()


def test_other_fields_pass_through_untouched() -> None:
    extras = {
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "response_format": {"type": "json_object"},
        "user": "u1",
        "seed": 42,
        "stop": ["\n"],
    }
    for tier in (SMALL, LARGE):
        shaped = shape_for_tier({"model": "auto", **extras}, tier)
        assert {k: shaped.body[k] for k in extras} == extras


def test_deployments_url_shape_needs_no_model_field() -> None:
    assert "model" not in shape_for_tier({"model": "auto"}, CLASSIC).body


def test_cost_from_usage_in_either_api_s_names() -> None:
    chat = read_usage(CHAT, {"prompt_tokens": 1_000_000, "completion_tokens": 2_000_000})
    responses = read_usage(RESPONSES, {"input_tokens": 1_000_000, "output_tokens": 2_000_000})
    assert chat == responses == Usage(1_000_000, 2_000_000)
    assert chat is not None
    assert chat.cost_usd(SMALL) == pytest.approx(0.075 + 0.6)
    assert read_usage(CHAT, None) is None
    assert read_usage(CHAT, {"prompt_tokens": None}) == Usage(None, None)
    assert Usage(None, None).cost_usd(SMALL) == 0.0
