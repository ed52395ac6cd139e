"""Where a tier's deployment is called: one place for every URL shape, its per-shape headers
and API version, and what an account URL says about the shape and host to use.

Each shape is Microsoft's documented route for a kind of deployment; the client asks `target`
for the URL and any headers that go with it, and the tier table asks `shape_in` and
`shape_endpoint` what an endpoint setting means, so a new shape or a new API lands here alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

if TYPE_CHECKING:  # the tier table imports this module to read its endpoints
    from shared.settings import Tier

Api = Literal["chat", "responses"]
"""The upstream API being called: chat completions, or the Responses API (Azure OpenAI models)."""

UrlShape = Literal["v1", "deployments", "models", "url"]
ExtraParameters = Literal["pass-through", "drop", "error"]
# Azure OpenAI's dated GA version (deployments shape) and the Foundry Models inference API's
# (models shape): https://learn.microsoft.com/azure/ai-foundry/model-inference/reference/reference-model-inference-api
DEFAULT_API_VERSION = "2024-10-21"
MODELS_API_VERSION = "2024-05-01-preview"
# The models route rejects body fields outside its own API unless told otherwise; pass-through
# hands them to the model, so nothing the caller sent is silently dropped.
DEFAULT_EXTRA_PARAMETERS: ExtraParameters = "pass-through"

# Hosts of one AIServices account: the OpenAI routes answer on all three, the models route on
# services.ai.azure.com only (https://learn.microsoft.com/azure/ai-foundry/foundry-models/concepts/endpoints).
_OPENAI_HOST_SUFFIXES = (".openai.azure.com", ".cognitiveservices.azure.com")
_MODELS_HOST_SUFFIX = ".services.ai.azure.com"
# What an account URL may end with: the route it names is dropped from the tier's endpoint.
_ROUTE_SUFFIXES = ("/openai/v1", "/openai", "/models")


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


def default_api_version(shape: UrlShape) -> str:
    """The API version a shape is called with unless the tier names one."""
    return MODELS_API_VERSION if shape == "models" else DEFAULT_API_VERSION


def url_shape_for_format(model_format: str) -> UrlShape:
    """The route a deployment is called on, from its model format (what infra/main.bicep uses
    too): OpenAI models on the OpenAI v1 route, every other Foundry Model on the models route."""
    return "v1" if model_format == "OpenAI" else "models"


def shape_in(endpoint: str) -> UrlShape | None:
    """The URL shape an endpoint's path names, if it names one."""
    path = urlsplit(endpoint).path.rstrip("/")
    if "/chat/completions" in path:
        return "url"
    if path.endswith("/models"):
        return "models"
    if path.endswith(("/openai/v1", "/openai")):
        return "v1"
    return None


def is_http_url(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def shape_endpoint(endpoint: str, shape: UrlShape) -> str:
    """The base `target` builds `shape`'s URLs on: the account URL without a route suffix,
    on the services.ai.azure.com host for the models route; the `url` shape's URL as given."""
    if shape == "url":
        return endpoint
    base = _account_url(endpoint)
    if shape == "models":
        parts = urlsplit(base)
        host = parts.hostname or ""
        for suffix in _OPENAI_HOST_SUFFIXES:
            if host.endswith(suffix):
                account = host[: -len(suffix)]
                return parts._replace(netloc=account + _MODELS_HOST_SUFFIX).geturl()
    return base


def _account_url(endpoint: str) -> str:
    """Accept the account URL with or without the `/openai`, `/openai/v1` or `/models` suffix."""
    base = endpoint.rstrip("/")
    for suffix in _ROUTE_SUFFIXES:
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base
