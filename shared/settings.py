"""App settings -> one frozen Settings object, validated once at start-up.

Every setting the router reads is named here, so a bad value fails fast with the setting's name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

UrlShape = Literal["v1", "deployments", "url"]
AuthMode = Literal["key", "entra"]
URL_SHAPES: tuple[UrlShape, ...] = ("v1", "deployments", "url")
DEFAULT_API_VERSION = "2024-10-21"
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
    input_price_per_1m: float = 0.0
    output_price_per_1m: float = 0.0
    context_window: int = 128_000
    capabilities: frozenset[str] = frozenset()
    tpm: int | None = None
    fallbacks: tuple[str, ...] = ()

    @property
    def reasoning(self) -> bool:
        return "reasoning" in self.capabilities


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
    # Resilience: a total budget per request, limits per attempt, retries, the breaker.
    request_timeout_s: float = 100.0
    connect_timeout_s: float = 5.0
    attempt_timeout_s: float = 60.0
    first_token_timeout_s: float = 20.0
    stream_idle_timeout_s: float = 30.0
    max_attempts: int = 3
    backoff_base_s: float = 1.0
    backoff_max_s: float = 8.0
    max_retry_wait_s: float = 10.0
    breaker_failures: int = 5
    breaker_cooldown_s: float = 30.0

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
                    "tpm": t.tpm,
                    "fallbacks": list(t.fallbacks),
                }
                for t in self.tiers
            ],
        }


# The seed's two tiers, used when ROUTER_TIERS is not set. List prices per 1M tokens; check yours.
SMALL_DEFAULT = {
    "deployment": "Phi-4-mini",
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
        max_body_bytes=int(reader.number("ROUTER_MAX_BODY_BYTES", 4 * 1024 * 1024, low=1024)),
        request_timeout_s=reader.number("ROUTER_REQUEST_TIMEOUT_S", 100, low=0.1),
        connect_timeout_s=reader.number("ROUTER_CONNECT_TIMEOUT_S", 5, low=0.01),
        attempt_timeout_s=reader.number("ROUTER_ATTEMPT_TIMEOUT_S", 60, low=0.01),
        first_token_timeout_s=reader.number("ROUTER_FIRST_TOKEN_TIMEOUT_S", 20, low=0.01),
        stream_idle_timeout_s=reader.number("ROUTER_STREAM_IDLE_TIMEOUT_S", 30, low=0.01),
        max_attempts=int(reader.number("ROUTER_MAX_ATTEMPTS", 3, low=1)),
        backoff_base_s=reader.number("ROUTER_BACKOFF_BASE_S", 1, low=0),
        backoff_max_s=reader.number("ROUTER_BACKOFF_MAX_S", 8, low=0),
        max_retry_wait_s=reader.number("ROUTER_MAX_RETRY_WAIT_S", 10, low=0),
        breaker_failures=int(reader.number("ROUTER_BREAKER_FAILURES", 5, low=1)),
        breaker_cooldown_s=reader.number("ROUTER_BREAKER_COOLDOWN_S", 30, low=0),
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
        # The seed's shortcut: one endpoint per model, or a shared FOUNDRY_ENDPOINT.
        specs = [
            {"name": "small", **SMALL_DEFAULT, "endpoint": reader.text("PHI4_MINI_ENDPOINT", "")},
            {"name": "large", **LARGE_DEFAULT, "endpoint": reader.text("GPT5_ENDPOINT", "")},
        ]
    tiers = tuple(_parse_tier(spec, index, default_endpoint) for index, spec in enumerate(specs))
    names = [t.name for t in tiers]
    if len(set(names)) != len(names):
        raise ConfigError("ROUTER_TIERS", f"tier names must be unique, got {names}")
    return tiers


def _parse_tier(spec: object, index: int, default_endpoint: str) -> Tier:
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
    url_shape = spec.get("url_shape") or _guess_shape(endpoint)
    if url_shape not in URL_SHAPES:
        raise ConfigError("ROUTER_TIERS", f"{where}: url_shape must be one of {list(URL_SHAPES)}")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError("ROUTER_TIERS", f"{where}: endpoint {endpoint!r} is not an http(s) URL")
    try:
        return Tier(
            name=spec["name"].strip(),
            deployment=spec["deployment"].strip(),
            endpoint=endpoint if url_shape == "url" else _base_endpoint(endpoint),
            url_shape=url_shape,
            api_version=str(spec.get("api_version") or DEFAULT_API_VERSION),
            input_price_per_1m=_non_negative(spec.get("input_price_per_1m", 0.0)),
            output_price_per_1m=_non_negative(spec.get("output_price_per_1m", 0.0)),
            context_window=int(_non_negative(spec.get("context_window", 128_000))),
            capabilities=frozenset(_strings(spec.get("capabilities", []))),
            tpm=None if spec.get("tpm") is None else int(_non_negative(spec["tpm"])),
            fallbacks=tuple(_strings(spec.get("fallbacks", []))),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError("ROUTER_TIERS", f"{where}: {exc}") from None


def _guess_shape(endpoint: str) -> UrlShape:
    return "url" if "/chat/completions" in urlsplit(endpoint).path else "v1"


def _base_endpoint(endpoint: str) -> str:
    """Accept the account URL with or without the `/openai` or `/openai/v1` suffix."""
    base = endpoint.rstrip("/")
    for suffix in ("/openai/v1", "/openai"):
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
