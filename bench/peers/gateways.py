"""The gateways compared, each as: install into a bench-only env if missing, then start.

Every gateway gets the same fake upstream and is asked the same OpenAI chat request; what
differs is only the URL and the headers each one wants.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import procs

ENVS = procs.REPO_ROOT / ".bench-envs"
INSTALL_TIMEOUT_S = 900


@dataclass
class Gateway:
    name: str
    path: str  # appended to the gateway's base URL
    headers: dict[str, str] = field(default_factory=dict)
    model: str = "auto"
    start: Callable[[str, int, Path, Sequence[int]], procs.Proc] | None = None


def ours(upstream: str, port: int, logs: Path, cpu: Sequence[int]) -> procs.Proc:
    return router_from(procs.REPO_ROOT, "hybrid-router")(upstream, port, logs, cpu)


def router_from(tree: Path, label: str) -> Callable[[str, int, Path, Sequence[int]], procs.Proc]:
    """The router as checked out in `tree` (another commit, for a before/after in one run)."""

    def start(upstream: str, port: int, logs: Path, cpu: Sequence[int]) -> procs.Proc:
        env = {
            "FOUNDRY_ENDPOINT": upstream,
            "FOUNDRY_API_KEY": "fake",
            "ROUTER_TIERS": "",  # the default small/large tiers on FOUNDRY_ENDPOINT
        }
        argv = [sys.executable, "-m", "devtools.localhost", "--port", str(port)]
        return procs.start(label, argv, port, env=env, cwd=tree.resolve(), cpu=cpu, log_dir=logs)

    return start


def _installed(check: Path, install: list[list[str]], cwd: Path, what: str) -> bool:
    """Install on first use; False (and say why) when that is not possible here."""
    if check.exists():
        return True
    cwd.mkdir(parents=True, exist_ok=True)
    print(f"installing {what} into {cwd} (first run only) ...", flush=True)
    for argv in install:
        try:
            done = subprocess.run(
                argv, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            print(f"skipping {what}: install failed ({exc})", flush=True)
            return False
        if done.returncode != 0:
            print(f"skipping {what}: `{' '.join(argv)}` failed:\n{done.stderr[-800:]}", flush=True)
            return False
    return check.exists()


def litellm_ready() -> bool:
    venv = ENVS / "litellm"
    return _installed(
        venv / "bin" / "litellm",
        [
            [sys.executable, "-m", "venv", str(venv)],
            [str(venv / "bin" / "pip"), "install", "-q", "litellm[proxy]"],
        ],
        ENVS,
        "LiteLLM proxy",
    )


def litellm(upstream: str, port: int, logs: Path, cpu: Sequence[int]) -> procs.Proc:
    config = logs / "litellm.json"  # YAML is a superset of JSON
    config.write_text(
        json.dumps(
            {
                "model_list": [
                    {
                        "model_name": "fake",
                        "litellm_params": {
                            "model": "openai/fake",
                            "api_base": f"{upstream}/v1",
                            "api_key": "fake",
                        },
                    }
                ],
                "litellm_settings": {"telemetry": False},
            }
        )
    )
    env = {
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the price list at start-up
        "LITELLM_LOG": "ERROR",
        "LITELLM_TELEMETRY": "False",
        "DISABLE_ADMIN_UI": "True",
        "LITELLM_MASTER_KEY": LITELLM_KEY,  # it refuses to start without one
    }
    argv = [
        str(ENVS / "litellm" / "bin" / "litellm"),
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--num_workers",
        "1",
    ]
    return procs.start("litellm", argv, port, env=env, cpu=cpu, log_dir=logs, timeout=180)


LITELLM_KEY = "sk-bench-" + secrets.token_hex(16)
PORTKEY_DIR = ENVS / "portkey"
PORTKEY_SERVER = PORTKEY_DIR / "node_modules" / "@portkey-ai" / "gateway" / "build"


def portkey_ready() -> bool:
    if shutil.which("npm") is None or shutil.which("node") is None:
        print("skipping Portkey: node/npm not installed", flush=True)
        return False
    return _installed(
        PORTKEY_SERVER / "start-server.js",
        [
            ["npm", "init", "-y"],
            ["npm", "install", "--no-audit", "--no-fund", "@portkey-ai/gateway"],
        ],
        PORTKEY_DIR,
        "Portkey gateway",
    )


def portkey(upstream: str, port: int, logs: Path, cpu: Sequence[int]) -> procs.Proc:
    argv = ["node", str(PORTKEY_SERVER / "start-server.js"), f"--port={port}", "--headless"]
    env = {"NODE_ENV": "production"}
    return procs.start("portkey", argv, port, env=env, cpu=cpu, log_dir=logs)


def all_gateways(
    upstream: str, trees: Sequence[tuple[str, Path]] = ()
) -> list[tuple[Gateway, Callable[[], bool]]]:
    """(gateway, is-it-installable) for each gateway, ours first (then other checkouts of it)."""
    return [
        (Gateway("hybrid-router", "/api/v1/chat/completions", start=ours), lambda: True),
        *(
            (
                Gateway(label, "/api/v1/chat/completions", start=router_from(tree, label)),
                lambda: True,
            )
            for label, tree in trees
        ),
        (
            Gateway(
                "LiteLLM",
                "/v1/chat/completions",
                {"authorization": f"Bearer {LITELLM_KEY}"},
                model="fake",
                start=litellm,
            ),
            litellm_ready,
        ),
        (
            Gateway(
                "Portkey",
                "/v1/chat/completions",
                {
                    "x-portkey-provider": "openai",
                    "x-portkey-custom-host": f"{upstream}/v1",
                    "authorization": "Bearer fake",
                },
                model="fake",
                start=portkey,
            ),
            portkey_ready,
        ),
    ]
