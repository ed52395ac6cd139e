"""Per-model parameter shaping and cost: pure functions of the request and the tier."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.settings import Tier

# Reasoning models (GPT-5, o-series) reject sampling knobs; Azure answers 400 unsupported_parameter.
REASONING_REJECTS = (
    "temperature",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "logprobs",
    "top_logprobs",
    "logit_bias",
)


@dataclass(frozen=True, slots=True)
class Shaped:
    """The body to send upstream and what was changed, reported to the caller in a header."""

    body: dict[str, Any]
    changes: tuple[str, ...] = ()


def shape_for_tier(body: dict[str, Any], tier: Tier) -> Shaped:
    """Fit a caller's body to the tier's model without touching the fields it doesn't concern."""
    out = dict(body)
    changes: list[str] = []
    if tier.url_shape != "deployments":
        out["model"] = tier.deployment
    else:
        out.pop("model", None)
    if tier.reasoning:
        if tier.reasoning_effort and out.get("reasoning_effort") is None:
            out["reasoning_effort"] = tier.reasoning_effort
            changes.append(f"reasoning_effort {tier.reasoning_effort} (the tier's default)")
        if "max_tokens" in out:
            limit = out.pop("max_tokens")
            out.setdefault("max_completion_tokens", limit)
            changes.append("max_tokens->max_completion_tokens")
        for name in REASONING_REJECTS:
            if name in out:
                del out[name]
                changes.append(f"dropped {name}")
    else:
        if "max_completion_tokens" in out:
            limit = out.pop("max_completion_tokens")
            out.setdefault("max_tokens", limit)
            changes.append("max_completion_tokens->max_tokens")
        # Observed 8x slower upstream; temperature 0 alone is as deterministic in practice.
        if out.get("temperature") == 0 and out.get("top_p") == 0:
            out["top_p"] = 1.0
            changes.append("top_p 0->1 (with temperature 0)")
    return Shaped(out, tuple(changes))


def shape_responses_for_tier(body: dict[str, Any], tier: Tier) -> Shaped:
    """A Responses API body fitted to the tier's model: the deployment as `model`; a reasoning
    model's refused sampling knobs dropped, reasoning settings dropped for any other model."""
    out = {**body, "model": tier.deployment}
    changes: list[str] = []
    if tier.reasoning:
        reasoning = out.get("reasoning")
        reasoning = reasoning if isinstance(reasoning, dict) else {}
        if tier.reasoning_effort and reasoning.get("effort") is None:
            out["reasoning"] = {**reasoning, "effort": tier.reasoning_effort}
            changes.append(f"reasoning_effort {tier.reasoning_effort} (the tier's default)")
        for name in REASONING_REJECTS:
            if name in out:
                del out[name]
                changes.append(f"dropped {name}")
    elif "reasoning" in out:
        del out["reasoning"]
        changes.append("dropped reasoning (not a reasoning model)")
    return Shaped(out, tuple(changes))
