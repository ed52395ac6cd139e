"""`python3 -m devtools up` as a user runs it: a clear message for a taken port, and structured
output through real client libraries (OpenAI SDK `.parse()`, LangChain `with_structured_output`)
against the router and emulator it starts."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from pydantic import BaseModel

from devtools.process import REPO_ROOT

# devtools.up itself, without the venv bootstrap of `python3 -m devtools` (the tests run in it).
UP = [sys.executable, "-c", "import sys; from devtools.up import up; sys.exit(up(sys.argv[1:]))"]


class Person(BaseModel):
    name: str
    age: int
    languages: list[str]


def test_a_taken_port_is_a_clear_message_not_a_traceback() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        done = subprocess.run(
            [*UP, "--port", str(port)], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60
        )
    assert done.returncode == 2
    assert f"port {port} is already in use" in done.stderr
    assert "--port N" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_taken_emulator_port_names_its_flag() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        done = subprocess.run(
            [*UP, "--port", "0", "--emulator-port", str(port)],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            timeout=60,
        )
    assert done.returncode == 2
    assert "--emulator-port N" in done.stderr


@pytest.fixture(scope="module")
def up_url() -> Iterator[str]:
    """The router URL `devtools up` prints, with both servers on free ports."""
    process = subprocess.Popen(
        [*UP, "--port", "0", "--emulator-port", "0", "--speed", "0"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            match = re.match(r"router:\s+(http://\S+)/api", line)
            if match and not found:
                found.append(match[1])
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    ready.wait(60)
    try:
        assert found, "devtools up printed no router URL"
        yield found[0]
    finally:
        # Ctrl-C, as a user stops it. A suite started in the background by a script has SIGINT
        # ignored, and `up` inherits that: there SIGTERM, which `up` handles the same way.
        ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        process.send_signal(signal.SIGTERM if ignored else signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()  # its servers outlive it: the check below fails
            process.wait(5)
    # `up` stopped what it started: nothing answers at its router's URL any more.
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{found[0]}/api/health", timeout=5)


def test_up_shares_state_through_the_redis_it_started(up_url: str) -> None:
    states = []
    for _ in range(100):  # the router connects in the background, on its first look
        states.append(httpx.get(f"{up_url}/api/health").json()["shared_state"])
        if states[-1] == "redis":
            break
        time.sleep(0.1)
    assert states[-1] == "redis", states


PROMPT = "Extract the person: Ada Lovelace, 36, writes English and French."


def test_openai_sdk_parse_with_a_pydantic_model(up_url: str) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{up_url}/api/v1", api_key="unused", max_retries=0)
    completion = client.chat.completions.parse(
        model="auto", messages=[{"role": "user", "content": PROMPT}], response_format=Person
    )
    person = completion.choices[0].message.parsed
    assert isinstance(person, Person)
    assert person.age >= 0
    assert person.languages


def test_langchain_with_structured_output(up_url: str) -> None:
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=f"{up_url}/api/v1", api_key="unused", model="auto", max_retries=0)
    person = llm.with_structured_output(Person).invoke(PROMPT)
    assert isinstance(person, Person), person
    assert person.languages
