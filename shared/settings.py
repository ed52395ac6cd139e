"""App settings -> one frozen Settings object, validated once at start-up.

Every setting the router reads is named here, so a bad value fails fast with the setting's name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

UrlShape = Literal["v1", "deployments", "models", "url"]
# The upstream APIs a tier's deployment has: Azure OpenAI models have both, others chat only.
API_NAMES = ("chat", "responses")
AuthMode = Literal["key", "entra"]
ExtraParameters = Literal["pass-through", "drop", "error"]
URL_SHAPES: tuple[UrlShape, ...] = ("v1", "deployments", "models", "url")
EXTRA_PARAMETERS: tuple[ExtraParameters, ...] = ("pass-through", "drop", "error")
# Azure OpenAI's dated GA version (deployments shape) and the Foundry Models inference API's
# (models shape): https://learn.microsoft.com/azure/ai-foundry/model-inference/reference/reference-model-inference-api
DEFAULT_API_VERSION = "2024-10-21"
MODELS_API_VERSION = "2024-05-01-preview"
# The models route rejects body fields outside its own API unless told otherwise; pass-through
# hands them to the model, so nothing the caller sent is silently dropped.
DEFAULT_EXTRA_PARAMETERS: ExtraParameters = "pass-through"
DEFAULT_TOKEN_SCOPE = "https://cognitiveservices.azure.com/.default"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting


@dataclass(frozen=True, slots=True)
class Tier:
    """One model deployment the router can send work to."""

    name: str
    deployment: str
    endpoint: str
    url_shape: UrlShape = "v1"
    api_version: str = DEFAULT_API_VERSION
    # The models shape's `extra-parameters` header; other shapes send none.
    extra_parameters: ExtraParameters = DEFAULT_EXTRA_PARAMETERS
    input_price_per_1m: float = 0.0
    output_price_per_1m: float = 0.0
    context_window: int = 128_000
    capabilities: frozenset[str] = frozenset()
    tpm: int | None = None
    fallbacks: tuple[str, ...] = ()
    apis: frozenset[str] = frozenset({"chat"})
    # None: from the tier's kind (KIND_TIMEOUTS) or ROUTER_ATTEMPT_TIMEOUT_S / ..._FIRST_TOKEN_...
    attempt_timeout_s: float | None = None
    first_token_timeout_s: float | None = None

    @property
    def reasoning(self) -> bool:
        return "reasoning" in self.capabilities

    @property
    def speaks_responses(self) -> bool:
        return "responses" in self.apis

    @property
    def kind(self) -> TierKind:
        return "reasoning" if self.reasoning else "fast"

    @property
    def attempt_limit_s(self) -> float:
        """One attempt's limit: connect, headers and the whole JSON body."""
        return self.attempt_timeout_s or KIND_TIMEOUTS[self.kind].attempt_s

    @property
    def first_token_limit_s(self) -> float:
        """A stream's limit until its first event."""
        return self.first_token_timeout_s or KIND_TIMEOUTS[self.kind].first_token_s


TierKind = Literal["fast", "reasoning"]


@dataclass(frozen=True, slots=True)
class KindTimeouts:
    attempt_s: float
    first_token_s: float


# Defaults that suit a fallback chain. A non-reasoning model (Phi-4-mini, gpt-4o) starts
# streaming in well under a second and writes a long JSON answer in seconds, so one that has
# not answered in 20 s (first token: 5 s) is hung and the next tier should have the request.
# A reasoning model (GPT-5, o-series) thinks before its first token, for minutes at high effort.
KIND_TIMEOUTS: dict[TierKind, KindTimeouts] = {
    "fast": KindTimeouts(attempt_s=20.0, first_token_s=5.0),
    "reasoning": KindTimeouts(attempt_s=180.0, first_token_s=120.0),
}


@dataclass(frozen=True, slots=True)
class Settings:
    tiers: tuple[Tier, ...]
    small_tier: str = "small"
    large_tier: str = "large"
    classifier_tier: str = "small"
    default_tier: str = "large"
    preset: str = "balanced"
    # A tool-result turn: decided on its own ("per-turn") or on the tier that began the loop.
    tool_loop: str = "per-turn"
    auth_mode: AuthMode = "key"
    api_key: str | None = field(default=None, repr=False)
    token_scope: str = DEFAULT_TOKEN_SCOPE
    managed_identity_client_id: str | None = None
    classifier_timeout_s: float = 1.0
    classifier_cache_ttl_s: float = 300.0
    classifier_cache_size: int = 10_000
    session_ttl_s: float = 1800.0
    session_max: int = 100_000
    max_body_bytes: int = 4 * 1024 * 1024
    body_timeout_s: float = 30.0  # to receive the request body: a stalled one gets 408
    # Resilience: a total budget per request, limits per attempt (per tier), retries, breaker.
    # Azure's front end drops an HTTP trigger's request after 230 s: answer before it does.
    request_timeout_s: float = 220.0
    connect_timeout_s: float = 5.0
    stream_idle_timeout_s: float = 30.0
    max_attempts: int = 3
    backoff_base_s: float = 1.0
    backoff_max_s: float = 8.0
    max_retry_wait_s: float = 10.0
    breaker_failures: int = 5
    breaker_cooldown_s: float = 30.0
    # Responses API state (shared/responses/store.py): blob storage, else in-process.
    responses_connection_string: str | None = field(default=None, repr=False)
    responses_blob_url: str | None = None
    responses_container: str = "router-responses"
    responses_ttl_s: float = 30 * 24 * 3600.0
    # What one conversation (a previous_response_id chain and the new input) may weigh, encoded:
    # by default what one request body may carry inline, so that continuing by id is no way
    # around ROUTER_MAX_BODY_BYTES.
    responses_max_chain_bytes: int = 4 * 1024 * 1024
    # Up to this size a conversation stays whole in each response's blob (one write, one read);
    # past it, in one append blob per conversation (linear storage). bench/responses.py, part 4.
    responses_inline_bytes: int = 64 * 1024

    def tier(self, name: str) -> Tier:
        for tier in self.tiers:
            if tier.name == name:
                return tier
        raise KeyError(name)

    def find_pin(self, model: str) -> Tier | None:
        """The tier a `model` value pins to: a tier name or a deployment name."""
        for tier in self.tiers:
            if model in (tier.name, tier.deployment):
                return tier
        return None

    def summary(self) -> dict[str, object]:
        """What /api/health shows: the shape of the configuration, never a secret."""
        return {
            "auth_mode": self.auth_mode,
            "preset": self.preset,
            "small_tier": self.small_tier,
            "large_tier": self.large_tier,
            "default_tier": self.default_tier,
            "tiers": [
                {
                    "name": t.name,
                    "deployment": t.deployment,
                    "host": urlsplit(t.endpoint).hostname,
                    "url_shape": t.url_shape,
                    "capabilities": sorted(t.capabilities),
                    "apis": sorted(t.apis),
                    "tpm": t.tpm,
                    "fallbacks": list(t.fallbacks),
                    "attempt_timeout_s": t.attempt_limit_s,
                    "first_token_timeout_s": t.first_token_limit_s,
                }
                for t in self.tiers
            ],
        }


def url_shape_for_format(model_format: str) -> UrlShape:
    """The route a deployment is called on, from its model format (what infra/main.bicep uses
    too): OpenAI models on the OpenAI v1 route, every other Foundry Model on the models route."""
    return "v1" if model_format == "OpenAI" else "models"


# The two default tiers, used when ROUTER_TIERS is not set. List prices per 1M tokens; check yours.
SMALL_DEFAULT = {
    "deployment": "Phi-4-mini",
    "url_shape": "models",
    "input_price_per_1m": 0.075,
    "output_price_per_1m": 0.30,
    "context_window": 131_072,
    # Text only: Foundry's catalog lists Phi-4-mini-instruct with "Tool calling: No" and
    # "Response formats: Text" (Microsoft Learn, "Foundry Models from partners and community",
    # learn.microsoft.com/azure/ai-foundry/foundry-models/concepts/models-from-partners).
    # So requests with tools, images or a JSON response format go to a tier that declares them.
    "capabilities": [],
}
LARGE_DEFAULT = {
    "deployment": "gpt-5",
    "input_price_per_1m": 1.25,
    "output_price_per_1m": 10.00,
    "context_window": 400_000,
    # GPT-5: reasoning, structured outputs, text and image input, functions, tools and parallel
    # tool calling (Microsoft Learn, "Foundry Models sold directly by Azure", GPT-5 capabilities,
    # learn.microsoft.com/azure/ai-foundry/foundry-models/concepts/models-sold-directly-by-azure).
    "capabilities": ["reasoning", "tools", "vision", "json_schema"],
    "apis": ["chat", "responses"],
}
TOOL_LOOPS = ("per-turn", "sticky")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the app settings (environment by default) into Settings, or raise ConfigError."""
    env = os.environ if env is None else env
    reader = _Reader(env)
    tiers = _read_tiers(reader)
    names = [t.name for t in tiers]
    small = reader.text("ROUTER_SMALL_TIER", "small")
    large = reader.text("ROUTER_LARGE_TIER", "large")
    classifier = reader.text("ROUTER_CLASSIFIER_TIER", small)
    default = reader.text("ROUTER_DEFAULT_TIER", large)
    for setting, value in (
        ("ROUTER_SMALL_TIER", small),
        ("ROUTER_LARGE_TIER", large),
        ("ROUTER_CLASSIFIER_TIER", classifier),
        ("ROUTER_DEFAULT_TIER", default),
    ):
        if value not in names:
            raise ConfigError(setting, f"names tier {value!r}, which is not one of {names}")
    for tier in tiers:
        for fallback in tier.fallbacks:
            if fallback not in names:
                raise ConfigError(
                    "ROUTER_TIERS", f"tier {tier.name!r} falls back to unknown tier {fallback!r}"
                )

    api_key = reader.text("FOUNDRY_API_KEY", "") or None
    auth_mode = reader.choice("ROUTER_AUTH_MODE", ("key", "entra"), "key" if api_key else "entra")
    if auth_mode == "key" and not api_key:
        raise ConfigError("FOUNDRY_API_KEY", "is required when ROUTER_AUTH_MODE is 'key'")

    from shared.routing.presets import PRESETS  # late: keeps settings free of routing at import

    max_body = int(reader.number("ROUTER_MAX_BODY_BYTES", 4 * 1024 * 1024, low=1024))

    return Settings(
        tiers=tiers,
        small_tier=small,
        large_tier=large,
        classifier_tier=classifier,
        default_tier=default,
        preset=reader.choice("ROUTER_PRESET", tuple(PRESETS), "balanced"),
        tool_loop=reader.choice("ROUTER_TOOL_LOOP", TOOL_LOOPS, "per-turn"),
        auth_mode=auth_mode,  # type: ignore[arg-type]
        api_key=api_key,
        token_scope=reader.text("ROUTER_TOKEN_SCOPE", DEFAULT_TOKEN_SCOPE),
        managed_identity_client_id=reader.text("AZURE_CLIENT_ID", "") or None,
        classifier_timeout_s=reader.number("ROUTER_CLASSIFIER_TIMEOUT_MS", 1000, low=1) / 1000,
        classifier_cache_ttl_s=reader.number("ROUTER_CLASSIFIER_CACHE_TTL_S", 300, low=0),
        classifier_cache_size=int(reader.number("ROUTER_CLASSIFIER_CACHE_SIZE", 10_000, low=0)),
        session_ttl_s=reader.number("ROUTER_SESSION_TTL_S", 1800, low=0),
        session_max=int(reader.number("ROUTER_SESSION_MAX", 100_000, low=0)),
        max_body_bytes=max_body,
        body_timeout_s=reader.number("ROUTER_BODY_TIMEOUT_S", 30, low=0.01),
        request_timeout_s=reader.number("ROUTER_REQUEST_TIMEOUT_S", 220, low=0.1),
        connect_timeout_s=reader.number("ROUTER_CONNECT_TIMEOUT_S", 5, low=0.01),
        stream_idle_timeout_s=reader.number("ROUTER_STREAM_IDLE_TIMEOUT_S", 30, low=0.01),
        max_attempts=int(reader.number("ROUTER_MAX_ATTEMPTS", 3, low=1)),
        backoff_base_s=reader.number("ROUTER_BACKOFF_BASE_S", 1, low=0),
        backoff_max_s=reader.number("ROUTER_BACKOFF_MAX_S", 8, low=0),
        max_retry_wait_s=reader.number("ROUTER_MAX_RETRY_WAIT_S", 10, low=0),
        breaker_failures=int(reader.number("ROUTER_BREAKER_FAILURES", 5, low=1)),
        breaker_cooldown_s=reader.number("ROUTER_BREAKER_COOLDOWN_S", 30, low=0),
        responses_connection_string=reader.text("ROUTER_RESPONSES_CONNECTION_STRING", "") or None,
        # Identity-based host storage (AzureWebJobsStorage__blobServiceUri) is the app's account.
        responses_blob_url=reader.text(
            "ROUTER_RESPONSES_BLOB_URL", reader.text("AzureWebJobsStorage__blobServiceUri", "")
        )
        or None,
        responses_container=reader.text("ROUTER_RESPONSES_CONTAINER", "router-responses"),
        responses_ttl_s=reader.number("ROUTER_RESPONSES_TTL_S", 30 * 24 * 3600, low=1),
        responses_max_chain_bytes=int(
            reader.number("ROUTER_RESPONSES_MAX_CHAIN_BYTES", max_body, low=1024)
        ),
        responses_inline_bytes=int(reader.number("ROUTER_RESPONSES_INLINE_BYTES", 65536, low=0)),
    )


class _Reader:
    """Typed access to raw settings; every failure names the setting."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def text(self, name: str, default: str) -> str:
        return self.env.get(name, "").strip() or default

    def number(self, name: str, default: float, low: float) -> float:
        raw = self.env.get(name, "").strip()
        if not raw:
            return float(default)
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(name, f"must be a number, got {raw!r}") from None
        if value < low:
            raise ConfigError(name, f"must be at least {low:g}, got {raw}")
        return value

    def optional_number(self, name: str, low: float) -> float | None:
        return self.number(name, 0, low) if self.env.get(name, "").strip() else None

    def choice(self, name: str, options: tuple[str, ...], default: str) -> str:
        value = self.text(name, default)
        if value not in options:
            raise ConfigError(name, f"must be one of {list(options)}, got {value!r}")
        return value


def _read_tiers(reader: _Reader) -> tuple[Tier, ...]:
    raw = reader.text("ROUTER_TIERS", "")
    default_endpoint = reader.text("FOUNDRY_ENDPOINT", "")
    if raw:
        try:
            specs = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError("ROUTER_TIERS", f"is not valid JSON ({exc.msg})") from None
        if not isinstance(specs, list) or not specs:
            raise ConfigError("ROUTER_TIERS", "must be a non-empty JSON array of tier objects")
    else:
        # The local shortcut: one endpoint per default model, or a shared FOUNDRY_ENDPOINT.
        specs = [
            _default_tier("small", SMALL_DEFAULT, reader.text("PHI4_MINI_ENDPOINT", "")),
            _default_tier("large", LARGE_DEFAULT, reader.text("GPT5_ENDPOINT", "")),
        ]
    # Set, these apply to every tier that doesn't set its own (else: the tier's kind decides).
    overrides = {
        "attempt_timeout_s": reader.optional_number("ROUTER_ATTEMPT_TIMEOUT_S", low=0.01),
        "first_token_timeout_s": reader.optional_number("ROUTER_FIRST_TOKEN_TIMEOUT_S", low=0.01),
    }
    tiers = tuple(
        _parse_tier(spec, index, default_endpoint, overrides) for index, spec in enumerate(specs)
    )
    names = [t.name for t in tiers]
    if len(set(names)) != len(names):
        raise ConfigError("ROUTER_TIERS", f"tier names must be unique, got {names}")
    return tiers


def _parse_tier(
    spec: object, index: int, default_endpoint: str, overrides: Mapping[str, float | None]
) -> Tier:
    where = f"tier {index}"
    if not isinstance(spec, dict):
        raise ConfigError("ROUTER_TIERS", f"{where} must be an object")
    unknown = set(spec) - set(Tier.__dataclass_fields__)
    if unknown:
        raise ConfigError("ROUTER_TIERS", f"{where} has unknown keys {sorted(unknown)}")
    for key in ("name", "deployment"):
        if not isinstance(spec.get(key), str) or not spec[key].strip():
            raise ConfigError("ROUTER_TIERS", f"{where} needs a non-empty string {key!r}")
    where = f"tier {spec['name']!r}"
    endpoint = (spec.get("endpoint") or default_endpoint or "").strip()
    if not endpoint:
        raise ConfigError("FOUNDRY_ENDPOINT", f"is not set and {where} has no endpoint of its own")
    url_shape = spec.get("url_shape") or _route_in(endpoint) or "v1"
    if url_shape not in URL_SHAPES:
        raise ConfigError("ROUTER_TIERS", f"{where}: url_shape must be one of {list(URL_SHAPES)}")
    extra_parameters = spec.get("extra_parameters") or DEFAULT_EXTRA_PARAMETERS
    if extra_parameters not in EXTRA_PARAMETERS:
        raise ConfigError(
            "ROUTER_TIERS", f"{where}: extra_parameters must be one of {list(EXTRA_PARAMETERS)}"
        )
    default_version = MODELS_API_VERSION if url_shape == "models" else DEFAULT_API_VERSION
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError("ROUTER_TIERS", f"{where}: endpoint {endpoint!r} is not an http(s) URL")
    try:
        return Tier(
            name=spec["name"].strip(),
            deployment=spec["deployment"].strip(),
            endpoint=_tier_endpoint(endpoint, url_shape),
            url_shape=url_shape,
            api_version=str(spec.get("api_version") or default_version),
            extra_parameters=extra_parameters,
            input_price_per_1m=_non_negative(spec.get("input_price_per_1m", 0.0)),
            output_price_per_1m=_non_negative(spec.get("output_price_per_1m", 0.0)),
            context_window=int(_non_negative(spec.get("context_window", 128_000))),
            capabilities=frozenset(_strings(spec.get("capabilities", []))),
            tpm=None if spec.get("tpm") is None else int(_non_negative(spec["tpm"])),
            fallbacks=tuple(_strings(spec.get("fallbacks", []))),
            apis=_apis(spec.get("apis", ["chat"])),
            attempt_timeout_s=_timeout(spec, "attempt_timeout_s", overrides),
            first_token_timeout_s=_timeout(spec, "first_token_timeout_s", overrides),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError("ROUTER_TIERS", f"{where}: {exc}") from None


def _apis(value: object) -> frozenset[str]:
    apis = frozenset(_strings(value))
    unknown = sorted(apis - set(API_NAMES))
    if unknown or "chat" not in apis:
        raise ValueError(f"apis must list 'chat' and may add 'responses', got {value!r}")
    return apis


def _timeout(spec: dict[str, Any], key: str, overrides: Mapping[str, float | None]) -> float | None:
    if spec.get(key) is None:
        return overrides[key]
    value = _non_negative(spec[key])
    if value <= 0:
        raise ValueError(f"{key} must be above 0, got {value!r}")
    return value


def _default_tier(name: str, defaults: dict[str, object], endpoint: str) -> dict[str, object]:
    """A default tier; an endpoint that names its route (e.g. `.../openai/v1`) keeps that route."""
    spec: dict[str, object] = {"name": name, **defaults, "endpoint": endpoint}
    if endpoint and _route_in(endpoint):
        spec.pop("url_shape", None)
    return spec


def _route_in(endpoint: str) -> UrlShape | None:
    """The URL shape an endpoint's path names, if it names one."""
    path = urlsplit(endpoint).path.rstrip("/")
    if "/chat/completions" in path:
        return "url"
    if path.endswith("/models"):
        return "models"
    if path.endswith(("/openai/v1", "/openai")):
        return "v1"
    return None


# Hosts of one AIServices account: the OpenAI routes answer on all three, the models route on
# services.ai.azure.com only (https://learn.microsoft.com/azure/ai-foundry/foundry-models/concepts/endpoints).
_OPENAI_HOST_SUFFIXES = (".openai.azure.com", ".cognitiveservices.azure.com")
_MODELS_HOST_SUFFIX = ".services.ai.azure.com"


def _tier_endpoint(endpoint: str, url_shape: UrlShape) -> str:
    if url_shape == "url":
        return endpoint
    base = _base_endpoint(endpoint)
    if url_shape == "models":
        parts = urlsplit(base)
        host = parts.hostname or ""
        for suffix in _OPENAI_HOST_SUFFIXES:
            if host.endswith(suffix):
                account = host[: -len(suffix)]
                return parts._replace(netloc=account + _MODELS_HOST_SUFFIX).geturl()
    return base


def _base_endpoint(endpoint: str) -> str:
    """Accept the account URL with or without the `/openai`, `/openai/v1` or `/models` suffix."""
    base = endpoint.rstrip("/")
    for suffix in ("/openai/v1", "/openai", "/models"):
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base


def _non_negative(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"expected a non-negative number, got {value!r}")
    return float(value)


def _strings(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of strings, got {value!r}")
    return value
