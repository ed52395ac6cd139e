"""Which tiers can take a request, and the cheapest of them that the routing decision allows.

Pure and reusable: `chat_needs` reads what a chat-completions body requires (the Responses API
adds needs of its own, such as built-in tools, and calls `choose` the same way). A tier's
`capabilities` say what it can take; a need that no configured tier declares is not a filter
(the configuration says nothing about it), so a table without capabilities routes as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.settings import Settings, Tier

TOOLS = "tools"  # function tools, or tool calls and results in the conversation
VISION = "vision"  # image parts
JSON_SCHEMA = "json_schema"  # response_format json_schema (structured outputs)
JSON_OBJECT = "json_object"  # response_format json_object (JSON mode)
REASONING = "reasoning"  # reasoning_effort: only reasoning models take it
# A tier that takes a schema also takes plain JSON mode.
IMPLIED: Mapping[str, frozenset[str]] = {JSON_SCHEMA: frozenset({JSON_OBJECT})}
CHARS_PER_TOKEN = 4  # a rough estimate, only to rule out tiers whose window is far too small
IMAGE_PARTS = ("image_url", "input_image", "image")


@dataclass(frozen=True, slots=True)
class Needs:
    capabilities: frozenset[str]
    prompt_tokens: int  # estimated

    def describe(self) -> str:
        return "+".join(sorted(self.capabilities)) or "context"


@dataclass(frozen=True, slots=True)
class Choice:
    tier: Tier
    changed: bool  # not the decided tier: a capability or the context window moved it


def chat_needs(body: Mapping[str, Any]) -> Needs:
    """What a chat-completions body requires of the tier that answers it."""
    needs: set[str] = set()
    if body.get("tools") or body.get("functions"):
        needs.add(TOOLS)
    chars = 0
    messages = body.get("messages")
    for message in messages if isinstance(messages, Sequence) else ():
        if not isinstance(message, Mapping):
            continue
        if message.get("role") in ("tool", "function") or message.get("tool_calls"):
            needs.add(TOOLS)
        content = message.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, Sequence):
            for part in content:
                if isinstance(part, Mapping):
                    if part.get("type") in IMAGE_PARTS:
                        needs.add(VISION)
                    text = part.get("text")
                    chars += len(text) if isinstance(text, str) else 0
    response_format = body.get("response_format")
    if isinstance(response_format, Mapping) and response_format.get("type") in (
        JSON_SCHEMA,
        JSON_OBJECT,
    ):
        needs.add(str(response_format["type"]))
    if body.get("reasoning_effort") is not None:
        needs.add(REASONING)
    return Needs(frozenset(needs), chars // CHARS_PER_TOKEN)


def capabilities_of(tier: Tier) -> frozenset[str]:
    implied = (IMPLIED.get(c, frozenset()) for c in tier.capabilities)
    return tier.capabilities.union(*implied)


def can_take(tier: Tier, needs: Needs, declared: frozenset[str]) -> bool:
    """Every need some tier declares is one this tier has, and the prompt fits its window."""
    missing = (needs.capabilities & declared) - capabilities_of(tier)
    return not missing and needs.prompt_tokens < tier.context_window


def price(tier: Tier) -> float:
    """List price of a million tokens in and a million out: orders the tiers by cost."""
    return tier.input_price_per_1m + tier.output_price_per_1m


def taker(tiers: Sequence[Tier], needs: Needs) -> Callable[[Tier], bool]:
    """Whether a tier of `tiers` can take a request with `needs`: the test `choose` applies,
    also used on the fallback chain (a tools request never fails over to a tier without tools)."""
    declared = frozenset().union(*(capabilities_of(t) for t in tiers))
    return lambda tier: can_take(tier, needs, declared)


def choose(tiers: Sequence[Tier], decided: Tier, needs: Needs, simple: bool = False) -> Choice:
    """The cheapest eligible tier at or above the decided tier's price; if none, the most
    capable (dearest) eligible tier below it; if no tier is eligible, the decided tier.
    `simple`: the decision was the small tier, so any eligible tier will do, the cheapest
    first (a tools tier priced below the small one is not skipped for the large one)."""
    eligible = list(filter(taker(tiers, needs), tiers))
    if decided in eligible:
        return Choice(decided, False)
    floor = 0.0 if simple else price(decided)
    allowed = [t for t in eligible if price(t) >= floor]
    if allowed:
        return Choice(min(allowed, key=price), True)
    if eligible:
        return Choice(max(eligible, key=price), True)
    return Choice(decided, False)


def choose_for(settings: Settings, decided_tier: str, needs: Needs) -> Choice:
    simple = decided_tier == settings.routing.small_tier
    return choose(settings.tiers, settings.tier(decided_tier), needs, simple)
