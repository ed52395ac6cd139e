"""When a small tier's agent turn fails the guard, and where it goes instead.

The guard (shared/guard.py) reviews an answer only where asking again can help: the request is
an agent turn (it offered tools or asked for JSON) and an eligible tier is priced above the one
that answered. The answer then goes once to the cheapest such tier: the next rung of the same
price ladder eligibility walks (shared/routing/eligibility.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.guard import Expectations, Failure
from shared.routing.eligibility import price
from shared.settings import Tier
from shared.upstream.apis import UpstreamApi


@dataclass(frozen=True, slots=True)
class Escalation:
    failure: Failure
    up: Tier

    def change(self, tier: Tier) -> str:
        """What x-router-adjusted says of it."""
        return f"escalated {tier.name}->{self.up.name}: {self.failure}"


@dataclass(frozen=True, slots=True)
class Review:
    """A request the guard covers, answered by `tier`, with `up` to go to on a failure."""

    expected: Expectations
    up: Tier

    def escalation(self, api: UpstreamApi, answer: Mapping[str, Any]) -> Escalation | None:
        failure = api.check(self.expected, answer)
        return None if failure is None else Escalation(failure, self.up)


def next_tier_up(
    tiers: Sequence[Tier], answered: Tier, eligible: Callable[[Tier], bool]
) -> Tier | None:
    """The cheapest eligible tier priced above the one that answered."""
    above = [t for t in tiers if eligible(t) and price(t) > price(answered)]
    return min(above, key=price) if above else None


def review(
    api: UpstreamApi,
    tiers: Sequence[Tier],
    body: Mapping[str, Any],
    answered: Tier,
    eligible: Callable[[Tier], bool] | None,
) -> Review | None:
    """The guard's review of an answer from `answered`, or None where it has nothing to do."""
    if eligible is None:
        return None
    up = next_tier_up(tiers, answered, eligible)  # first: cheaper than reading the tools
    if up is None:
        return None
    expected = api.expect(body)
    return Review(expected, up) if expected.agent_turn else None
