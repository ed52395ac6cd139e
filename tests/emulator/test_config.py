"""Start-up configuration: defaults < --config file < env < CLI, and the CLI itself."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from devtools.emulator import load_config
from devtools.process import start_server


def test_defaults() -> None:
    config = load_config(env={})
    assert config.api_key == "emulator-key"
    assert config.speed == 1.0
    phi, gpt5 = config.deployments["Phi-4-mini"], config.deployments["gpt-5"]
    assert (phi.model, phi.latency_ms, phi.tpm, phi.context, phi.reasoning) == (
        "Phi-4-mini-instruct",
        (50, 150),
        400_000,  # Foundry Models' documented default per deployment
        131072,
        False,
    )
    assert phi.effective_rpm == 1000
    assert (gpt5.tpm, gpt5.effective_rpm) == (1_000_000, 6000)  # Azure OpenAI: 6 RPM per 1K TPM
    assert (gpt5.model, gpt5.latency_ms, gpt5.context, gpt5.reasoning) == (
        "gpt-5",
        (500, 2000),
        400000,
        True,
    )
    assert config.deployments["gpt-4o"].context == 128000
    assert config.deployments["Phi-4"].latency_ms == (100, 300)


def test_file_then_env_then_cli(tmp_path: Path) -> None:
    path = tmp_path / "emulator.json"
    path.write_text(
        json.dumps(
            {
                "speed": 2,
                "api_key": "from-file",
                "deployments": {"gpt-4o": None, "gpt-5": {"tpm": 5000}, "tiny": {"model": "t"}},
            }
        )
    )
    config = load_config(path, env={})
    assert (config.speed, config.api_key) == (2, "from-file")
    assert "gpt-4o" not in config.deployments
    assert config.deployments["gpt-5"].tpm == 5000
    assert config.deployments["gpt-5"].reasoning
    assert config.deployments["tiny"].model == "t"
    config = load_config(path, env={"EMULATOR_SPEED": "0.5", "EMULATOR_API_KEY": "from-env"})
    assert (config.speed, config.api_key) == (0.5, "from-env")
    config = load_config(path, speed=0, api_key="cli", env={"EMULATOR_SPEED": "0.5"})
    assert (config.speed, config.api_key) == (0, "cli")


def test_bad_config_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"deployments": {"gpt-5": {"latency_ms": [5, 1]}}}))
    with pytest.raises(ValueError, match="latency_ms"):
        load_config(path, env={})


def test_cli_with_config_file_and_api_key(tmp_path: Path) -> None:
    path = tmp_path / "emulator.json"
    path.write_text(json.dumps({"deployments": {"custom": {"model": "custom-model"}}}))
    server = start_server(
        ["-m", "devtools.emulator", "--port", "0", "--config", str(path), "--api-key", "k2"],
        env={"EMULATOR_SPEED": "0"},
    )
    try:
        response = httpx.post(
            f"{server.url}/openai/v1/chat/completions",
            json={"model": "custom", "messages": [{"role": "user", "content": "hi"}]},
            headers={"api-key": "k2"},
        )
        assert response.status_code == 200
        assert response.json()["model"] == "custom-model"
        assert httpx.get(f"{server.url}/control/settings").json()["speed"] == 0
    finally:
        server.stop()
