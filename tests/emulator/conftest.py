"""One emulator child process for the emulator tests (real sockets), reset before every test;
it stops when they are done."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from devtools.process import ServerProcess, start_server
from tests.emulator.helpers import API_KEY


@pytest.fixture(scope="package")
def emulator() -> Iterator[ServerProcess]:
    server = start_server(
        ["-m", "devtools.emulator", "--port", "0", "--speed", "0", "--api-key", API_KEY]
    )
    yield server
    server.stop()
    # Faults that break connections must not make the emulator itself fail.
    problems = [line for line in server.output if "Traceback" in line or "ERROR" in line]
    assert not problems, "\n".join(server.output)


@pytest.fixture(scope="package")
def base_url(emulator: ServerProcess) -> str:
    return emulator.url


@pytest.fixture(scope="package")
def session_client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client


@pytest.fixture
def client(session_client: httpx.Client) -> httpx.Client:
    """A client on a freshly reset emulator: no faults, usage, records or setting changes."""
    session_client.post("/control/reset").raise_for_status()
    return session_client
