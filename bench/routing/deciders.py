"""How the evaluation decides a prompt's tier: the router's own RoutingPolicy (scorer, rules,
classifier, safe default) against a classifier endpoint; and the stand-ins that settle
abstentions in the report."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from bench.routing import turns
from bench.routing.data import Prompt
from bench.routing.traffic import Routed, Tier
from devtools.emulator.classify import classify
from shared.routing.classifier import MAX_PROMPT_CHARS, describe_turn
from shared.routing.features import view_request
from shared.routing.presets import Thresholds

if TYPE_CHECKING:  # the gateway pulls in the HTTP stack: only the model modes import it
    from shared.gateway import Gateway
    from shared.routing.policy import Decision, RoutingPolicy


def load_policy(endpoint: str, preset: str) -> RouterPolicy:
    """The router's RoutingPolicy with `preset`, its classifier (prompt, parsing, timeout and
    cache) asking `endpoint`, authenticated as the router would be: FOUNDRY_API_KEY from the
    environment, else Entra."""
    from shared.gateway import Gateway
    from shared.settings import load_settings

    env = {**os.environ, "FOUNDRY_ENDPOINT": endpoint, "ROUTER_PRESET": preset}
    return RouterPolicy(Gateway(load_settings(env)))


class RouterPolicy:
    """The gateway's policy, and a way to close the gateway's connections after a run."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.policy: RoutingPolicy = gateway.decider.policy

    async def aclose(self) -> None:
        await self.gateway.aclose()


def tier_of(policy: RoutingPolicy, decision: Decision) -> Tier:
    """The report's tier for a decision: the small tier, or the large one (or the default)."""
    return "small" if decision.tier == policy.settings.routing.small_tier else "large"


# Settling abstentions without a model, for the report: what each assumption would give.
AbstainRule = Callable[[Prompt], Tier]


def emulator_rule(prompt: Prompt) -> Tier:
    """The emulator's classifier (devtools/emulator/classify.py, a documented keyword rule and
    a weak stand-in for Phi-4-mini) on the text the router sends it: the last user message
    after a line describing the agent turn (classifier.describe_turn)."""
    text = describe_turn(view_request(prompt.messages, prompt.tools))[:MAX_PROMPT_CHARS]
    return "large" if classify(text) == "complex" else "small"


ABSTAIN_RULES: dict[str, AbstainRule] = {
    "to large": lambda _p: "large",  # the classifier is down and the policy plays safe
    "perfect classifier": lambda p: "large" if p.is_complex else "small",
    "emulator classifier": emulator_rule,
    "to small": lambda _p: "small",  # the worst case for recall
}


class Verdict(Protocol):
    """A scorer's verdict on a prompt (shared.routing.scorer.Score, or one kept from it)."""

    @property
    def p_large(self) -> float: ...
    @property
    def abstain(self) -> bool: ...


def route(
    p: Prompt,
    score: Verdict,
    bands: Thresholds,
    rule: AbstainRule,
    outcome: Callable[[Prompt, Tier, bool], Routed] = turns.routed,
) -> Routed:
    """A scored prompt's outcome: decided locally by `bands`, an abstention settled by `rule`."""
    local = bands.decide(score.p_large, score.abstain)
    return outcome(p, rule(p) if local == "abstain" else local, local != "abstain")


def route_all(
    prompts: Sequence[Prompt],
    scores: Sequence[Verdict],
    bands: tuple[Thresholds, Thresholds],
    rule: AbstainRule,
) -> list[Routed]:
    """`route` for each prompt; `bands`: without tools, with tools."""
    return [route(p, s, bands[p.has_tools], rule) for p, s in zip(prompts, scores, strict=True)]
