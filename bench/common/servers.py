"""The project's own servers for benchmarks: the Foundry emulator and the router's local host."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.common import procs

EMULATOR_KEY = "emulator-key"
# Deployments the router's default tiers use; benchmarks lift their quotas (the emulator would
# otherwise answer 429 within a second at these rates) unless a bench wants them.
BENCH_DEPLOYMENTS = ("Phi-4-mini", "gpt-5-nano", "gpt-5")


def start_emulator(
    logs: Path, cpu: Sequence[int], speed: float = 0.0, quotas: bool = False
) -> procs.Proc:
    port = procs.free_port()
    argv = [sys.executable, "-m", "devtools.emulator", "--port", str(port), "--speed", str(speed)]
    proc = procs.start("emulator", argv, port, cpu=cpu, log_dir=logs)
    settings: dict[str, Any] = {"record_requests": False}
    if not quotas:
        settings["deployments"] = {d: {"tpm": None, "rpm": None} for d in BENCH_DEPLOYMENTS}
    control(proc, "/control/settings", settings)
    return proc


def control(emulator: procs.Proc, path: str, body: Mapping[str, Any]) -> Any:
    reply = httpx.post(emulator.url + path, json=dict(body), timeout=10)
    reply.raise_for_status()
    return reply.json()


def start_router(
    emulator: procs.Proc, logs: Path, cpu: Sequence[int], **settings: str
) -> procs.Proc:
    port = procs.free_port()
    env = {"FOUNDRY_ENDPOINT": emulator.url, "FOUNDRY_API_KEY": EMULATOR_KEY, **settings}
    argv = [sys.executable, "-m", "devtools.localhost", "--port", str(port)]
    return procs.start("router", argv, port, env=env, cpu=cpu, log_dir=logs)
