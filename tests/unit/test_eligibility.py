"""Capabilities decide eligibility: pure rules, no I/O."""

from shared.routing.eligibility import Needs, chat_needs, choose
from shared.settings import Tier

SMALL = Tier("small", "Phi-4-mini", "https://a", input_price_per_1m=0.075, output_price_per_1m=0.3)
MID = Tier(
    "mid",
    "gpt-5-mini",
    "https://a",
    input_price_per_1m=0.25,
    output_price_per_1m=2.0,
    capabilities=frozenset({"tools", "json_schema"}),
)
LARGE = Tier(
    "large",
    "gpt-5",
    "https://a",
    input_price_per_1m=1.25,
    output_price_per_1m=10.0,
    context_window=400_000,
    capabilities=frozenset({"tools", "vision", "json_schema", "reasoning"}),
)
TIERS = (SMALL, MID, LARGE)


def needs(*capabilities: str, tokens: int = 10) -> Needs:
    return Needs(frozenset(capabilities), tokens)


def test_a_body_says_what_it_needs() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:,"}}
    body = {
        "messages": [{"role": "user", "content": [{"type": "text", "text": "abcd" * 10}, image]}],
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}},
        "reasoning_effort": "low",
    }
    found = chat_needs(body)
    assert found.capabilities == {"tools", "vision", "json_schema", "reasoning"}
    assert found.prompt_tokens == 10
    assert chat_needs({"messages": [{"role": "user", "content": "hi"}]}).capabilities == set()


def test_tool_messages_need_tools_even_without_a_tool_list() -> None:
    body = {"messages": [{"role": "user", "content": "x"}, {"role": "tool", "content": "1"}]}
    assert chat_needs(body).capabilities == {"tools"}
    assert chat_needs({"messages": "junk"}).capabilities == set()  # parse errors are api.py's


def test_the_cheapest_eligible_tier_the_decision_allows() -> None:
    assert choose(TIERS, SMALL, needs()).tier is SMALL
    assert choose(TIERS, SMALL, needs("tools")).tier is MID
    assert choose(TIERS, SMALL, needs("vision")).tier is LARGE
    assert choose(TIERS, LARGE, needs("tools")).tier is LARGE  # never cheaper than decided
    assert choose(TIERS, MID, needs("tools")).changed is False


def test_a_simple_decision_takes_a_tools_tier_priced_below_the_small_one() -> None:
    # The ladder is by price: a small tier that takes tools but costs less than the plain small
    # tier is still the place for a simple tool turn, not the large tier.
    cheap_tools = Tier(
        "tools", "t", "https://a", input_price_per_1m=0.01, capabilities=frozenset({"tools"})
    )
    tiers = (cheap_tools, SMALL, LARGE)
    assert choose(tiers, SMALL, needs("tools"), simple=True).tier is cheap_tools
    assert choose(tiers, SMALL, needs("tools")).tier is LARGE  # a tier decided on its own merit
    assert choose(tiers, LARGE, needs("tools"), simple=False).tier is LARGE


def test_schema_implies_json_mode() -> None:
    assert choose(TIERS, SMALL, needs("json_object")).tier is MID


def test_a_need_no_tier_declares_is_no_filter() -> None:
    # a table without capabilities routes as it did before capabilities existed
    bare = (Tier("small", "a", "https://a"), Tier("large", "b", "https://a"))
    assert choose(bare, bare[0], needs("tools", "vision")).tier is bare[0]


def test_the_context_window_rules_out_a_tier() -> None:
    assert choose(TIERS, SMALL, needs(tokens=200_000)).tier is LARGE


def test_below_the_decision_only_when_nothing_at_or_above_can_take_it() -> None:
    no_vision_large = Tier("large", "gpt-x", "https://a", input_price_per_1m=5.0)
    vision_mid = Tier(
        "mid", "m", "https://a", input_price_per_1m=1.0, capabilities=frozenset({"vision"})
    )
    tiers = (SMALL, vision_mid, no_vision_large)
    assert choose(tiers, no_vision_large, needs("vision")).tier is vision_mid
    assert choose(TIERS, LARGE, needs(tokens=10**9)).tier is LARGE  # nothing fits: as decided
