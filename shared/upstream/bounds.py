"""How long and how large one upstream answer may be, from what the request asked for.

- A JSON answer's size: the most a tier can write, `context_window` tokens, at
  `ANSWER_BYTES_PER_TOKEN` bytes each (a token is a few characters; as JSON, with escapes such
  as \\uXXXX and the object around the text, it stays under 64 bytes), times the choices asked
  (`n`) and, with logprobs, times the entries written per token (the token and its
  `top_logprobs` alternatives). A setting can cap it lower.
- A JSON answer's time: Foundry sends a non-streamed answer's headers when the model has
  written it, so the wait for headers grows with the output asked for: the tier's base
  attempt limit plus the requested output tokens (`max_tokens`, `max_completion_tokens`,
  `max_output_tokens`) at the tier's expected output speed. A request that asks for no cap
  gets the base limit alone: it says nothing of its length, and a hung deployment must still
  be left for its fallback within the base limit. Once the headers are in, the body is already
  written, whatever the model's kind: it must arrive within a fast tier's base limit (or the
  tier's own, if shorter), so a body that trickles fails over as fast as a fast tier's does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.settings import KIND_TIMEOUTS, Tier, TierKind

ANSWER_BYTES_PER_TOKEN = 64
# Output tokens per second to expect of a deployment of this kind: Phi-4-mini and gpt-4o-class
# models write 40-100 on Foundry; a reasoning model's hidden reasoning counts as output too.
EXPECTED_OUTPUT_TOKENS_PER_S: dict[TierKind, float] = {"fast": 40.0, "reasoning": 25.0}
_OUTPUT_FIELDS = ("max_completion_tokens", "max_tokens", "max_output_tokens")


def requested_output_tokens(body: Mapping[str, Any]) -> int | None:
    """The output cap a chat or Responses body asks for, if any."""
    for name in _OUTPUT_FIELDS:
        value = body.get(name)
        if isinstance(value, int) and value > 0:
            return value
    return None


def answer_limit_bytes(tier: Tier, body: Mapping[str, Any], cap: int | None = None) -> int:
    """The largest JSON answer `tier` can give to `body`, or `cap` when that is lower."""
    choices = body.get("n")
    per_token = ANSWER_BYTES_PER_TOKEN
    if isinstance(choices, int) and choices > 1:
        per_token *= choices
    if body.get("logprobs") is True or isinstance(body.get("top_logprobs"), int):
        alternatives = body.get("top_logprobs")
        per_token *= 2 + (alternatives if isinstance(alternatives, int) else 0)
    limit = tier.context_window * per_token
    return min(limit, cap) if cap else limit


def answer_wait_s(tier: Tier, body: Mapping[str, Any]) -> float:
    """How long a JSON attempt may wait for its headers: the base limit plus writing time."""
    tokens = requested_output_tokens(body) or 0
    return tier.attempt_limit_s + tokens / EXPECTED_OUTPUT_TOKENS_PER_S[tier.kind]


def body_wait_s(tier: Tier) -> float:
    """How long a JSON answer's body may take once its headers are in."""
    return min(tier.attempt_limit_s, KIND_TIMEOUTS["fast"].attempt_s)
