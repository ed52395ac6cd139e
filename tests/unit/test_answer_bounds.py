"""The rules for how large and how long one upstream answer may be (shared/upstream/bounds.py)."""

from __future__ import annotations

from shared.settings import Tier
from shared.upstream.bounds import (
    ANSWER_BYTES_PER_TOKEN,
    EXPECTED_OUTPUT_TOKENS_PER_S,
    answer_limit_bytes,
    answer_wait_s,
    body_wait_s,
    requested_output_tokens,
)

FAST = Tier(name="small", deployment="Phi-4-mini", endpoint="http://x", context_window=131_072)
REASONING = Tier(
    name="large",
    deployment="gpt-5",
    endpoint="http://x",
    context_window=400_000,
    capabilities=frozenset({"reasoning"}),
)


def test_the_largest_answer_is_the_context_window_at_64_bytes_a_token() -> None:
    assert answer_limit_bytes(FAST, {}) == 131_072 * 64 == 8 * 1024 * 1024


def test_more_choices_and_logprobs_make_room_for_what_they_write() -> None:
    base = answer_limit_bytes(FAST, {})
    assert answer_limit_bytes(FAST, {"n": 3}) == 3 * base
    assert answer_limit_bytes(FAST, {"logprobs": True}) == 2 * base
    assert answer_limit_bytes(FAST, {"logprobs": True, "top_logprobs": 5}) == 7 * base


def test_the_setting_caps_it_lower_never_higher() -> None:
    assert answer_limit_bytes(FAST, {}, cap=100_000) == 100_000
    assert answer_limit_bytes(FAST, {}, cap=10**12) == 131_072 * ANSWER_BYTES_PER_TOKEN


def test_the_output_cap_is_read_from_any_api() -> None:
    assert requested_output_tokens({"max_tokens": 10}) == 10
    assert requested_output_tokens({"max_completion_tokens": 20}) == 20
    assert requested_output_tokens({"max_output_tokens": 30}) == 30
    assert requested_output_tokens({"max_tokens": "many"}) is None
    assert requested_output_tokens({}) is None


def test_the_wait_for_headers_grows_with_the_output_asked_for() -> None:
    speed = EXPECTED_OUTPUT_TOKENS_PER_S["fast"]
    assert answer_wait_s(FAST, {"max_tokens": 4000}) == FAST.attempt_limit_s + 4000 / speed
    assert answer_wait_s(FAST, {"max_tokens": 4000}) == 120.0


def test_without_a_cap_the_base_limit_alone() -> None:
    assert answer_wait_s(FAST, {}) == FAST.attempt_limit_s == 20.0
    assert answer_wait_s(REASONING, {}) == REASONING.attempt_limit_s


def test_the_body_gets_a_fast_tiers_limit_whatever_the_model() -> None:
    assert body_wait_s(FAST) == 20.0
    assert body_wait_s(REASONING) == 20.0  # written already: thinking time is no reason to wait
    assert (
        body_wait_s(Tier(name="t", deployment="d", endpoint="http://x", attempt_timeout_s=1)) == 1
    )
