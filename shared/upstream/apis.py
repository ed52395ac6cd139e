"""The upstream APIs the router calls, each described once: what the seam needs to know of it.

Adding an API (e.g. OpenAI Responses) is one more `UpstreamApi` here and a URL shape in
`urls.py`; the client, the attempts and the resilience loop take it as a parameter.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from shared import guard
from shared.settings import Tier
from shared.upstream.health import DEFAULT_OUTPUT_ESTIMATE, estimate_tokens
from shared.upstream.models import Shaped, shape_for_tier, shape_responses_for_tier
from shared.upstream.urls import Api


@dataclass(frozen=True, slots=True)
class UpstreamApi:
    name: Api  # what `urls.target(tier, api)` is asked for
    operation: str  # gen_ai.operation.name of its spans and metrics
    shape: Callable[[dict[str, Any], Tier], Shaped]  # fit a caller's body to a tier's model
    estimate_tokens: Callable[[Mapping[str, Any]], int]  # what a body counts against a TPM quota
    problem: Callable[[dict[str, Any]], str | None]  # None when a 2xx body is a valid answer
    input_tokens: str  # the usage block's field names
    output_tokens: str
    # What a request expects of its answer, and the first thing a 2xx answer gets wrong
    # (shared/guard.py): the guard on a small tier's agent turn.
    expect: Callable[[Mapping[str, Any]], guard.Expectations]
    check: Callable[[guard.Expectations, Mapping[str, Any]], guard.Failure | None]


def chat_problem(body: dict[str, Any]) -> str | None:
    if "error" in body and "choices" not in body:
        return "an error object"
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        return "a body that is not a chat completion (no choices)"
    return None


CHAT = UpstreamApi(
    name="chat",
    operation="chat",
    shape=shape_for_tier,
    estimate_tokens=estimate_tokens,
    problem=chat_problem,
    input_tokens="prompt_tokens",
    output_tokens="completion_tokens",
    expect=guard.chat_expectations,
    check=guard.check_chat,
)


def responses_problem(body: dict[str, Any]) -> str | None:
    if "error" in body and "output" not in body:
        return "an error object"
    if not isinstance(body.get("output"), list):
        return "a body that is not a Response (no output)"
    return None


def estimate_responses_tokens(body: Mapping[str, Any]) -> int:
    """As estimate_tokens, from a Responses body: instructions, input items, max_output_tokens."""
    text = orjson.dumps([body.get("instructions"), body.get("input")])
    output = body.get("max_output_tokens")
    return math.ceil(len(text) / 4) + (
        output if isinstance(output, int) else DEFAULT_OUTPUT_ESTIMATE
    )


# Azure OpenAI's Responses API (/openai/v1/responses), for tiers whose `apis` list it.
RESPONSES = UpstreamApi(
    name="responses",
    operation="chat",  # the GenAI conventions' name for a model answering a conversation
    shape=shape_responses_for_tier,
    estimate_tokens=estimate_responses_tokens,
    problem=responses_problem,
    input_tokens="input_tokens",
    output_tokens="output_tokens",
    expect=guard.responses_expectations,
    check=guard.check_responses,
)
