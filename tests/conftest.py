"""Real servers for the tests: the Foundry emulator and the router's local host, on loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from devtools import azurite as azurite_storage
from devtools.process import ServerProcess, start_server
from shared.settings import LARGE_DEFAULT

EMULATOR_KEY = "emulator-key"


class Emulator:
    """The emulator's control API, for arranging faults and reading what the router sent."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10)

    def reset(self) -> None:
        self.http.post("/control/reset").raise_for_status()

    def fault(self, deployment: str, kind: str, times: int | None = 1, **params: Any) -> None:
        body = {"deployment": deployment, "kind": kind, "times": times, **params}
        reply = self.http.post("/control/faults", json=body)
        assert reply.is_success, reply.text

    def configure(self, deployment: str | None = None, **settings: Any) -> None:
        """Change the emulator's settings, for one deployment or (without one) globally."""
        body = {"deployments": {deployment: settings}} if deployment else settings
        self.http.post("/control/settings", json=body).raise_for_status()

    def requests(self, deployment: str | None = None) -> list[dict[str, Any]]:
        recorded = self.http.get("/control/requests").raise_for_status().json()
        recorded = recorded.get("requests", recorded) if isinstance(recorded, dict) else recorded
        return [r for r in recorded if deployment in (None, r["deployment"])]


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    server = start_server(["-m", "devtools.emulator", "--port", "0", "--speed", "0"])
    control = Emulator(server.url)
    yield control
    control.http.close()
    server.stop()


@pytest.fixture(autouse=True)
def _clean_emulator(request: pytest.FixtureRequest) -> None:
    """Each test starts from an emulator without faults, quotas spent or recorded requests."""
    if "emulator" in request.fixturenames:
        emulator = request.getfixturevalue("emulator")
        if isinstance(emulator, Emulator):  # tests/emulator has a fixture of its own
            emulator.reset()


def require_azurite() -> None:
    """Skip the test, saying why, where Azurite cannot run (no node/npm)."""
    problem = azurite_storage.missing()
    if problem:
        pytest.skip(f"needs Azurite for the Responses blob store, and {problem} (install node/npm)")


@pytest.fixture(scope="session")
def azurite() -> Iterator[str]:
    """Azurite's blob service (npm, .azurite/): its connection string, for the Responses store."""
    require_azurite()
    server = azurite_storage.start()
    yield server.connection_string
    server.stop()


def started_redis() -> Any:
    """redis-server on a free port (installed with apt-get as root); without it, and no way to
    install it, the test is skipped with the reason (CI installs it: .ci/run)."""
    from devtools import redis

    problem = redis.missing()
    if problem:
        pytest.skip(f"needs a real redis-server for the shared state, and {problem}")
    return redis.start()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Any]:
    """A real redis-server (Debian's package, devtools/redis.py) on a free loopback port, for
    the shared state; tests that stop it use `own_redis` instead."""
    server = started_redis()
    yield server
    server.close()


@pytest.fixture
def own_redis() -> Iterator[Any]:
    """A redis-server of this test's own, which it may stop, flush and start again."""
    server = started_redis()
    yield server
    server.close()


StartRouter = Callable[..., str]
# Router URL -> the lines its process printed so far (its operator logs among them).
ROUTER_OUTPUT: dict[str, list[str]] = {}


@contextmanager
def routers(emulator: Emulator) -> Iterator[StartRouter]:
    """Start routers wired to the emulator with extra settings (each call returns its base URL);
    all of them stop when the block ends. A router is a process of ~100 MB: each lives only as
    long as the scope that needs it, or a run holds dozens at once."""
    started: list[ServerProcess] = []

    def start(**settings: str) -> str:
        env = {
            "FOUNDRY_ENDPOINT": emulator.url,
            "FOUNDRY_API_KEY": EMULATOR_KEY,
            "ROUTER_CLASSIFIER_TIMEOUT_MS": "2000",  # generous on a busy machine
            **settings,
        }
        server = start_server(["-m", "devtools.localhost", "--port", "0"], env=env)
        started.append(server)
        ROUTER_OUTPUT[server.url] = server.output
        return server.url

    try:
        yield start
    finally:
        for server in started:
            server.stop()
            ROUTER_OUTPUT.pop(server.url, None)


@pytest.fixture
def start_router(emulator: Emulator) -> Iterator[StartRouter]:
    """Routers for one test (or a function-scoped fixture): they stop when the test ends."""
    with routers(emulator) as start:
        yield start


@pytest.fixture(scope="module")
def start_module_router(emulator: Emulator) -> Iterator[StartRouter]:
    """Routers for a module-scoped fixture: they stop when the module's tests are done."""
    with routers(emulator) as start:
        yield start


@pytest.fixture(scope="session")
def start_shared_router(emulator: Emulator) -> Iterator[StartRouter]:
    """Routers shared by many modules on purpose (`router_url`, `tools_router_url`)."""
    with routers(emulator) as start:
        yield start


@pytest.fixture(scope="session")
def router_output() -> dict[str, list[str]]:
    """Router URL -> the lines its process printed while it runs (a fixture: pytest's conftest
    module is not the `tests.conftest` a test can import)."""
    return ROUTER_OUTPUT


def printed(lines: list[str], wanted: str, within_s: float = 10.0) -> list[str]:
    """The lines of a router's output that contain `wanted`, once there is one (or, after
    `within_s`, none): a thread reads the output, so a line logged during a request may land
    after its response (later still on a busy machine)."""
    give_up = time.monotonic() + within_s
    while not (found := [line for line in lines if wanted in line]):
        if time.monotonic() > give_up:
            break
        time.sleep(0.05)
    return found


@pytest.fixture(scope="session")
def router_url(start_shared_router: StartRouter) -> str:
    return start_shared_router()


# One function tool, and an ask that clearly calls it (the tool-calling tests).
WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
WEATHER_ASK = [{"role": "user", "content": "Use the get_weather tool for Paris."}]

# A small tier that fails over to Phi-4, then GPT-5: the telemetry tests' chain.
FAILOVER_TIERS = [
    {
        "name": "small",
        "deployment": "Phi-4-mini",
        "fallbacks": ["phi4"],
        "input_price_per_1m": 0.075,
        "output_price_per_1m": 0.3,
    },
    {"name": "phi4", "deployment": "Phi-4", "input_price_per_1m": 0.125},
    {"name": "large", "deployment": "gpt-5", "capabilities": ["reasoning"]},
]

# The small tier that takes tools, as the README recommends for agents: Phi-4-mini on Foundry
# takes none (the emulator refuses them), so a small tier given tools is gpt-5-nano, chat-only
# here so the Responses API is translated for it as for Phi.
TOOL_TIERS = [
    {
        "name": "small",
        "deployment": "gpt-5-nano",
        "input_price_per_1m": 0.05,
        "output_price_per_1m": 0.40,
        "capabilities": ["reasoning", "tools", "json_schema"],
    },
    {"name": "large", **LARGE_DEFAULT},
]


@pytest.fixture(scope="session")
def tools_router_url(start_shared_router: StartRouter) -> str:
    """A router whose small tier takes tools (TOOL_TIERS)."""
    return start_shared_router(ROUTER_TIERS=json.dumps(TOOL_TIERS))


@pytest.fixture
def router(router_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{router_url}/api", timeout=30) as client:
        yield client
