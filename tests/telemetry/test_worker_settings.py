"""What infra sets for the Functions worker's own Azure Monitor set-up, read by the distro that
the worker runs (azure-monitor-opentelemetry's configuration, as configure_azure_monitor builds
it from the environment): whole traces at the router's ratio, no FastAPI server spans beside the
host's requests, and log records from the router's loggers only."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
from azure.monitor.opentelemetry._utils.configurations import _get_configurations

from shared import sampling

REPO = Path(__file__).resolve().parents[2]
CONTRACT = REPO / "infra" / "app-settings.json"
WORKER_SETTINGS = (
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",
    "PYTHON_APPLICATIONINSIGHTS_LOGGER_NAME",
)


def deployed() -> dict[str, str]:
    values = {s["name"]: s.get("value") for s in json.loads(CONTRACT.read_text())["settings"]}
    return {name: values[name] for name in WORKER_SETTINGS if name in values}


def worker_configuration(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> dict[str, Any]:
    """The distro's configuration as the worker asks for it (azure-functions-python-worker,
    otel.py: configure_azure_monitor(connection_string=..., logger_name=<the app setting>))."""
    for name in WORKER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return _get_configurations(
        connection_string="InstrumentationKey=00000000-0000-0000-0000-000000000000",
        logger_name=env.get("PYTHON_APPLICATIONINSIGHTS_LOGGER_NAME", ""),
    )


def test_infra_sets_every_worker_setting() -> None:
    assert set(deployed()) == set(WORKER_SETTINGS)


def test_the_distros_default_sampler_is_rate_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    """Why infra sets a sampler: without one, spans are kept up to 5 per second, each alone."""
    config = worker_configuration(monkeypatch, {})
    assert config.get("traces_per_second") == 5.0
    assert config.get("sampling_ratio") is None


def test_the_worker_keeps_whole_traces_at_the_routers_ratio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = worker_configuration(monkeypatch, deployed())
    assert config.get("traces_per_second") is None
    assert config["sampling_ratio"] == sampling.ratio_from({})  # the router's default, 1


def test_the_worker_does_not_instrument_the_fastapi_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert worker_configuration(monkeypatch, {})["instrumentation_options"]["fastapi"]["enabled"]
    config = worker_configuration(monkeypatch, deployed())
    assert config["instrumentation_options"]["fastapi"]["enabled"] is False
    assert config["instrumentation_options"]["azure_sdk"]["enabled"]  # storage spans stay


def logger_names() -> set[str]:
    """Every logging.getLogger("...") name in the deployed code."""
    names = set()
    for path in [REPO / "function_app.py", *(REPO / "shared").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", None) == "getLogger"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(str(node.args[0].value))
    return names


def test_the_worker_collects_the_routers_loggers_and_no_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = worker_configuration(monkeypatch, deployed())
    root = config["logger_name"]
    assert root == "hybrid_router"
    ours = {name for name in logger_names() if name.split(".")[0] == root}
    assert "hybrid_router.ops" in ours  # the operator logs
    # Other names are libraries the router quietens, not loggers it writes to.
    assert logger_names() - ours <= {"azure.core.pipeline.policies.http_logging_policy"}
