"""Where a tier's deployment is called: one place for every URL shape and its per-shape headers.

Each shape is Microsoft's documented route for a kind of deployment; the client asks `target`
for the URL and any headers that go with it, so a new shape or a new API lands here alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from shared.settings import Tier

Api = Literal["chat", "responses"]
"""The upstream API being called: chat completions, or the Responses API (Azure OpenAI models)."""


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    headers: dict[str, str] = field(default_factory=dict)


def target(tier: Tier, api: Api = "chat") -> Target:
    """The URL (and any headers the shape needs) for calling `api` on `tier`'s deployment."""
    if api == "responses":
        # Azure OpenAI's v1 route, whatever the tier's chat shape; the deployment is `model`.
        # https://learn.microsoft.com/azure/foundry/openai/how-to/responses
        return Target(f"{tier.endpoint}/openai/v1/responses")
    if tier.url_shape == "deployments":
        return Target(
            f"{tier.endpoint}/openai/deployments/{tier.deployment}/chat/completions"
            f"?api-version={tier.api_version}"
        )
    if tier.url_shape == "models":
        # Foundry Models inference: the deployment goes in the body's `model`, like v1.
        return Target(
            f"{tier.endpoint}/models/chat/completions?api-version={tier.api_version}",
            {"extra-parameters": tier.extra_parameters},
        )
    if tier.url_shape == "url":
        return Target(tier.endpoint)
    return Target(f"{tier.endpoint}/openai/v1/chat/completions")
