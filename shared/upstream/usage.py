"""Tokens and list-price cost of one answer: read once, in either API's names, where the answer
or the stream comes back (attempts.py), and recorded there (tokens and cost metrics)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared import telemetry as t
from shared.settings import Tier
from shared.upstream.apis import UpstreamApi

# A Responses stream carries its usage on the event that ends it.
FINAL_EVENTS = ("response.completed", "response.incomplete")


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int | None  # None: the deployment did not say
    output_tokens: int | None

    def cost_usd(self, tier: Tier) -> float:
        """The list-price cost at the tier's prices."""
        spent = (self.input_tokens or 0) * tier.input_price_per_1m
        return (spent + (self.output_tokens or 0) * tier.output_price_per_1m) / 1_000_000


def read_usage(api: UpstreamApi, block: Any) -> Usage | None:
    """A usage block under `api`'s names (chat: prompt_tokens; Responses: input_tokens)."""
    if not block or not isinstance(block, Mapping):
        return None
    return Usage(_count(block.get(api.input_tokens)), _count(block.get(api.output_tokens)))


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def usage_block(api: UpstreamApi, event: Mapping[str, Any]) -> Any:
    """Where a stream event of `api` carries the answer's usage, if it does: a chat chunk's
    `usage`, a Responses final event's `response.usage`."""
    if api.name == "chat":
        return event.get("usage")
    response = event.get("response")
    if event.get("type") in FINAL_EVENTS and isinstance(response, Mapping):
        return response.get("usage")
    return None


class Meter:
    """Records an answer's tokens (gen_ai.client.token.usage) and cost (router.cost.usd)."""

    def __init__(self, instruments: t.Instruments) -> None:
        self.instruments = instruments

    def record(self, api: UpstreamApi, tier: Tier, usage: Usage | None) -> float:
        """The answer's cost, recorded (0 without usage: a JSON answer's cost is always told)."""
        cost = 0.0 if usage is None else usage.cost_usd(tier)
        self.instruments.cost.add(cost, {t.TIER: tier.name})
        if usage is None:
            return cost
        base = t.metric_attributes(api.operation, tier.deployment, tier.url_shape)
        for kind, tokens in (("input", usage.input_tokens), ("output", usage.output_tokens)):
            if tokens is not None:
                self.instruments.token_usage.record(tokens, {**base, t.TOKEN_TYPE: kind})
        return cost

    def event(self, api: UpstreamApi, tier: Tier, event: Mapping[str, Any]) -> Usage | None:
        """A stream event's usage, if it carries it: recorded, and its block given its cost
        (`cost_usd`, which the caller sees)."""
        block = usage_block(api, event)
        usage = read_usage(api, block)
        if usage is None:
            return None
        block["cost_usd"] = round(self.record(api, tier, usage), 8)
        return usage
