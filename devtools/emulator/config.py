"""Emulator configuration: deployments, keys, speed. Defaults < --config file < env < CLI."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypedDict

DEFAULT_API_KEY = "emulator-key"
DEFAULT_IDENTITY_HEADER = "emulator-identity-header"


@dataclass(frozen=True)
class DeploymentConfig:
    """One model deployment as Foundry exposes it."""

    name: str
    model: str
    latency_ms: tuple[float, float] = (50.0, 150.0)
    tpm: int | None = 1_000_000
    # None: derived like Azure does, 6 RPM per 1000 TPM.
    rpm: int | None = None
    context: int = 131072
    reasoning: bool = False
    # Share of the latency spent before the first streamed token.
    ttft_fraction: float = 0.3
    # Answer 403 PermissionDenied (the caller's identity lacks the data-action role).
    forbidden: bool = False
    # Whether the model returns token logprobs (GPT-4o does; GPT-5 and Phi-4-mini on Foundry
    # do not); asking a model without them is a 400.
    logprobs: bool = False
    # Whether the deployment takes `tools`: Microsoft Learn lists Phi-4-mini-instruct and Phi-4
    # on Foundry with "Tool calling: No" (Foundry Models from partners and community); the
    # OpenAI models call tools. A tools request to a deployment without it is a 400.
    tool_calling: bool = True

    @property
    def effective_rpm(self) -> int | None:
        if self.rpm is not None:
            return self.rpm
        return None if self.tpm is None else max(1, self.tpm * 6 // 1000)


class Limits(TypedDict):
    tpm: int
    rpm: int


# Foundry Models (not Azure OpenAI) have a fixed default limit per deployment: 400,000 tokens and
# 1,000 requests per minute ("Rest of models", Foundry Models quotas and limits).
FOUNDRY_MODELS_LIMITS: Limits = {"tpm": 400_000, "rpm": 1_000}


def default_deployments() -> dict[str, DeploymentConfig]:
    items = [
        DeploymentConfig(
            "Phi-4-mini",
            "Phi-4-mini-instruct",
            (50, 150),
            context=131072,
            tool_calling=False,
            **FOUNDRY_MODELS_LIMITS,
        ),
        DeploymentConfig(
            "Phi-4", "Phi-4", (100, 300), context=16384, tool_calling=False, **FOUNDRY_MODELS_LIMITS
        ),
        # The default small tier that takes tools: a GPT-5 reasoning model with tools and a
        # 400,000-token context (OpenAI's gpt-5-nano model page). Its latency, at the minimal
        # reasoning effort the router asks of it, on this emulator's scale (Phi-4-mini's 1.5 s
        # is 50-150 ms here): published Azure figures put a short agent turn (~50 tokens out)
        # at 0.9-2.1 s (first token at most GPT-5 minimal's 1.70 s on Azure, Artificial
        # Analysis; 136 tokens/s for gpt-5-nano on Azure, ZenMux), so 60-140 ms, most of it
        # before the first token. devtools/emulator/README.md, "Deployments", has the sources.
        DeploymentConfig(
            "gpt-5-nano",
            "gpt-5-nano",
            (60, 140),
            context=400000,
            reasoning=True,
            ttft_fraction=0.7,
        ),
        # The large tier that needs no registration (infra/examples/gpt-5-mini.parameters.json).
        # Its latency is placed between gpt-5-nano's and gpt-5's on this scale, not calibrated.
        DeploymentConfig(
            "gpt-5-mini",
            "gpt-5-mini",
            (150, 600),
            context=400000,
            reasoning=True,
            ttft_fraction=0.7,
        ),
        DeploymentConfig(
            "gpt-5", "gpt-5", (500, 2000), context=400000, reasoning=True, ttft_fraction=0.7
        ),
        DeploymentConfig("gpt-4o", "gpt-4o", (300, 1000), context=128000, logprobs=True),
    ]
    return {d.name: d for d in items}


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything the emulator starts with; `/control/reset` returns to this."""

    deployments: dict[str, DeploymentConfig] = field(default_factory=default_deployments)
    # None or "": key auth disabled, only emulator-issued bearer tokens are accepted.
    api_key: str | None = DEFAULT_API_KEY
    identity_header: str = DEFAULT_IDENTITY_HEADER
    speed: float = 1.0
    token_lifetime_s: float = 3600.0
    quota_window_s: float = 60.0
    record_requests: bool = True
    # Bounded so a long benchmark cannot grow the emulator without limit.
    max_recorded: int = 10_000


_DEPLOYMENT_FIELDS = {f.name for f in fields(DeploymentConfig)} - {"name"}
_TOP_FIELDS = {f.name for f in fields(EmulatorConfig)} - {"deployments"}


def deployment_from_dict(
    name: str, data: dict[str, Any], base: DeploymentConfig | None = None
) -> DeploymentConfig:
    """Overlay `data` on `base` (or a fresh deployment named `name`); raises ValueError."""
    unknown = set(data) - _DEPLOYMENT_FIELDS
    if unknown:
        raise ValueError(f"unknown deployment setting(s) for {name}: {sorted(unknown)}")
    current = base or DeploymentConfig(name=name, model=name)
    values = dict(data)
    if "latency_ms" in values:
        low, high = values["latency_ms"]
        if not 0 <= float(low) <= float(high):
            raise ValueError("latency_ms must be [min, max] with 0 <= min <= max")
        values["latency_ms"] = (float(low), float(high))
    for key in ("tpm", "rpm"):
        if values.get(key) is not None and int(values[key]) < 1:
            raise ValueError(f"{key} must be >= 1 or null")
    if "context" in values and int(values["context"]) < 1:
        raise ValueError("context must be >= 1")
    if "ttft_fraction" in values and not 0 <= float(values["ttft_fraction"]) <= 1:
        raise ValueError("ttft_fraction must be within [0, 1]")
    return replace(current, **values)


def apply_overrides(config: EmulatorConfig, data: dict[str, Any]) -> EmulatorConfig:
    """Overlay a JSON-shaped dict on a config: top-level fields and per-deployment fields.

    `deployments: {name: {...}}` overlays the named deployment (creating it when new);
    `deployments: {name: null}` removes it.
    """
    unknown = set(data) - _TOP_FIELDS - {"deployments"}
    if unknown:
        raise ValueError(f"unknown setting(s): {sorted(unknown)}")
    deployments = dict(config.deployments)
    for name, overlay in (data.get("deployments") or {}).items():
        if overlay is None:
            deployments.pop(name, None)
        elif isinstance(overlay, dict):
            deployments[name] = deployment_from_dict(name, overlay, deployments.get(name))
        else:
            raise ValueError(f"deployment {name} must be an object or null")
    top = {k: v for k, v in data.items() if k != "deployments"}
    if "speed" in top and float(top["speed"]) < 0:
        raise ValueError("speed must be >= 0")
    if "token_lifetime_s" in top and float(top["token_lifetime_s"]) <= 0:
        raise ValueError("token_lifetime_s must be > 0")
    if "quota_window_s" in top and float(top["quota_window_s"]) <= 0:
        raise ValueError("quota_window_s must be > 0")
    return replace(config, deployments=deployments, **top)


def load_config(
    path: str | Path | None = None,
    *,
    speed: float | None = None,
    api_key: str | None = None,
    env: dict[str, str] | None = None,
) -> EmulatorConfig:
    """Build the start-up config: defaults, then the JSON file, then env, then CLI values."""
    environ = os.environ if env is None else env
    config = EmulatorConfig()
    if path:
        config = apply_overrides(config, json.loads(Path(path).read_text(encoding="utf-8")))
    env_values: dict[str, Any] = {}
    if "EMULATOR_SPEED" in environ:
        env_values["speed"] = float(environ["EMULATOR_SPEED"])
    if "EMULATOR_API_KEY" in environ:
        env_values["api_key"] = environ["EMULATOR_API_KEY"]
    if "EMULATOR_IDENTITY_HEADER" in environ:
        env_values["identity_header"] = environ["EMULATOR_IDENTITY_HEADER"]
    config = apply_overrides(config, env_values)
    cli_values: dict[str, Any] = {}
    if speed is not None:
        cli_values["speed"] = speed
    if api_key is not None:
        cli_values["api_key"] = api_key
    return apply_overrides(config, cli_values)


def deployment_to_dict(d: DeploymentConfig) -> dict[str, Any]:
    return {
        "model": d.model,
        "latency_ms": list(d.latency_ms),
        "tpm": d.tpm,
        "rpm": d.rpm,
        "effective_rpm": d.effective_rpm,
        "context": d.context,
        "reasoning": d.reasoning,
        "ttft_fraction": d.ttft_fraction,
        "forbidden": d.forbidden,
        "logprobs": d.logprobs,
        "tool_calling": d.tool_calling,
    }


def config_to_dict(config: EmulatorConfig) -> dict[str, Any]:
    """The config as JSON for `/control/settings`, without secrets."""
    return {
        "deployments": {n: deployment_to_dict(d) for n, d in config.deployments.items()},
        "api_key_enabled": bool(config.api_key),
        "speed": config.speed,
        "token_lifetime_s": config.token_lifetime_s,
        "quota_window_s": config.quota_window_s,
        "record_requests": config.record_requests,
        "max_recorded": config.max_recorded,
    }
