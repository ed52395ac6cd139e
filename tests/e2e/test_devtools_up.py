"""`python3 -m devtools up` as a user runs it: a clear message for a taken port, a restart on the
same ports right after a stop, a start without node/npm, a banner whose Python snippet pastes as
it is, and structured output through real client libraries (OpenAI SDK `.parse()`, LangChain
`with_structured_output`) against the router and emulator it starts."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel

from devtools import azurite, redis
from devtools.children import free_port
from devtools.process import REPO_ROOT
from devtools.up import banner
from tests.conftest import StartRouter

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


@dataclass
class Up:
    """A running `devtools up`: its process, the router URL it printed, everything it printed."""

    process: subprocess.Popen[str]
    url: str = ""
    output: list[str] = field(default_factory=list)

    def stop(self) -> None:
        """Ctrl-C, as a user stops it. A suite started in the background by a script has SIGINT
        ignored, and `up` inherits that: there SIGTERM, which `up` handles the same way."""
        ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        self.process.send_signal(signal.SIGTERM if ignored else signal.SIGINT)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()  # its servers outlive it: the callers' checks fail
            self.process.wait(5)


def start_up(*args: str, env: dict[str, str] | None = None) -> Up:
    """Run `devtools up` with `args` and wait for the banner's last line (or its exit)."""
    process = subprocess.Popen(
        [*UP, *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    up = Up(process)
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            up.output.append(line.rstrip("\n"))
            match = re.match(r"router:\s+(http://\S+)/api", line)
            if match and not up.url:
                up.url = match[1]
            if line.startswith("Ctrl-C stops"):
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    ready.wait(90)
    return up


@pytest.fixture(scope="module")
def up() -> Iterator[Up]:
    """`devtools up` with all it starts on free ports."""
    running = start_up("--port", "0", "--emulator-port", "0", "--speed", "0")
    try:
        assert running.url, "devtools up printed no router URL:\n" + "\n".join(running.output)
        yield running
    finally:
        running.stop()
    # `up` stopped what it started: nothing answers at its router's URL any more.
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{running.url}/api/health", timeout=5)


@pytest.fixture(scope="module")
def up_url(up: Up) -> str:
    return up.url


def test_it_stops_and_starts_again_on_the_same_ports_at_once() -> None:
    """A restart right after Ctrl-C: the connections the last run closed still hold its ports
    (FIN_WAIT2, then TIME_WAIT for a minute), which must not read as "port already in use"."""
    ports = ["--port", str(free_port()), "--emulator-port", str(free_port()), "--speed", "0"]
    first = start_up(*ports, "--no-azurite")
    assert first.url, "\n".join(first.output)
    # A keep-alive connection still open when the server stops: the server closes it, so the
    # server's side of it, on the router's port, is left in TIME_WAIT.
    with httpx.Client(timeout=10) as client:
        assert client.get(f"{first.url}/api/health").status_code == 200
        first.stop()
        # The stop closed the connection on the server's side: FIN_WAIT2 while the client
        # keeps its end, TIME_WAIT after; either way the port is not free of it.
        assert int(ports[1]) in ports_closed_first(), "no closed connection on the router's port"
        second = start_up(*ports, "--no-azurite")
    try:
        assert "already in use" not in "\n".join(second.output), second.output
        assert second.url == first.url
        assert httpx.get(f"{second.url}/api/health", timeout=10).status_code == 200
    finally:
        second.stop()


def ports_closed_first() -> set[int]:
    """The local IPv4 ports of TCP connections this end closed first and that still linger
    (FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSING in Linux's /proc/net/tcp)."""
    try:
        table = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        pytest.skip("needs Linux's /proc/net/tcp to see the closed connections")
    lingering = {"04", "05", "06", "0B"}  # include/net/tcp_states.h
    return {int(row.split()[1].split(":")[1], 16) for row in table if row.split()[3] in lingering}


def without_node() -> dict[str, str]:
    """This environment with PATH cut down to directories that hold neither node nor npm."""
    kept = [
        d
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if not any(os.path.exists(os.path.join(d, tool)) for tool in ("node", "npm"))
    ]
    return {**os.environ, "PATH": os.pathsep.join(kept)}


def test_without_node_it_starts_and_says_the_store_is_in_process() -> None:
    env = without_node()
    assert shutil.which("node", path=env["PATH"]) is None
    running = start_up("--port", "0", "--emulator-port", "0", "--speed", "0", env=env)
    try:
        printed = "\n".join(running.output)
        assert running.url, printed
        assert "Traceback" not in printed
        notes = [line for line in running.output if line.startswith("responses:")]
        assert notes == [
            "responses: stored in the router's process: local only, lost when it stops (Azurite"
            " is off: node not found on PATH; install node and npm for the blob store)"
        ] or notes == [
            "responses: stored in the router's process: local only, lost when it stops (Azurite"
            " is off: node and npm not found on PATH; install node and npm for the blob store)"
        ], notes
        assert f"Ctrl-C stops {listed(['the router', 'the emulator'], running.output)}." in (
            running.output
        )
        # The Responses API still keeps a conversation, in the process.
        base = f"{running.url}/api/v1"
        first = httpx.post(f"{base}/responses", json={"model": "auto", "input": "hi"}, timeout=30)
        assert first.status_code == 200, first.text
        again = httpx.get(f"{base}/responses/{first.json()['id']}", timeout=30)
        assert again.status_code == 200
    finally:
        running.stop()


def listed(started: list[str], output: list[str]) -> str:
    """What `up` says Ctrl-C stops: `started`, and redis-server when its state line names it."""
    if any(line.startswith("state:     redis-server") for line in output):
        started = [*started, "redis-server"]
    return ", ".join(started[:-1]) + " and " + started[-1]


def test_the_banner_names_all_that_ctrl_c_stops(up: Up) -> None:
    started = ["the router", "the emulator", *(["Azurite"] if not azurite.missing() else [])]
    assert f"Ctrl-C stops {listed(started, up.output)}." in up.output


def test_the_banner_says_where_shared_state_lives(up: Up) -> None:
    (state,) = [line for line in up.output if line.startswith("state:")]
    if redis.binary() is not None:
        assert state.startswith("state:     redis-server at redis://127.0.0.1:"), state
    else:  # one clear line saying why, and the router runs all the same
        assert "kept in the router's process" in state, state


def test_the_printed_python_snippet_pastes_and_runs_as_it_is(up: Up) -> None:
    start = up.output.index("from openai import OpenAI")
    end = next(i for i in range(start, len(up.output)) if not up.output[i])
    snippet = "\n".join(up.output[start:end])
    assert all(not line[:1].isspace() for line in up.output[start:end])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(snippet, "<pasted>", "exec"), {})
    assert printed.getvalue().split()[0] in ("gpt-5", "Phi-4-mini"), printed.getvalue()


def test_with_a_local_function_key_the_printed_examples_send_it(
    start_router: StartRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_FUNCTION_KEY", "local-key")
    url = start_router(LOCAL_FUNCTION_KEY="local-key")
    lines = banner(url, None, "kept in the router's process", azurite_runs=False).splitlines()
    assert "local-key" not in "\n".join(lines)  # named, not printed
    (curl,) = [line for line in lines if line.startswith("curl ")]
    done = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=60)
    assert done.stdout.startswith("HTTP/1.1 200"), done.stdout
    start = lines.index("import os")  # the snippet reads the key from the environment
    end = lines.index("", start)
    assert all(not line[:1].isspace() for line in lines[start:end])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile("\n".join(lines[start:end]), "<pasted>", "exec"), {})
    assert printed.getvalue().split()[0] in ("gpt-5", "gpt-5-nano", "Phi-4-mini"), (
        printed.getvalue()
    )


def test_installing_shows_progress_while_it_runs(capsys: pytest.CaptureFixture[str]) -> None:
    slow = [sys.executable, "-c", "import time; time.sleep(1.6)"]
    azurite.run_with_progress(slow, "installing something", every_s=0.5)
    out = capsys.readouterr().out
    assert out.startswith("installing something ...")
    assert out.count(".") >= 2 + 3  # the label's three dots and a tick per half second
    assert "done in" in out


def test_a_failed_install_shows_what_it_printed(capsys: pytest.CaptureFixture[str]) -> None:
    failing = [sys.executable, "-c", "print('npm ERR! no network'); raise SystemExit(1)"]
    with pytest.raises(subprocess.CalledProcessError):
        azurite.run_with_progress(failing, "installing something")
    assert "npm ERR! no network" in capsys.readouterr().out


def test_up_shares_state_through_the_redis_it_started(up_url: str) -> None:
    states = []
    for _ in range(100):  # the router connects in the background, on its first look
        states.append(httpx.get(f"{up_url}/api/health/details").json()["shared_state"])
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


def test_openai_sdk_responses_parse_with_a_pydantic_model(up_url: str) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{up_url}/api/v1", api_key="unused", max_retries=0)
    response = client.responses.parse(model="auto", input=PROMPT, text_format=Person)
    person = response.output_parsed
    assert isinstance(person, Person), response
    assert person.languages


def test_langchain_with_structured_output_over_the_responses_api(up_url: str) -> None:
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(
        base_url=f"{up_url}/api/v1",
        api_key="unused",
        model="auto",
        max_retries=0,
        use_responses_api=True,
    )
    person = llm.with_structured_output(Person).invoke(PROMPT)
    assert isinstance(person, Person), person
    assert person.languages


def test_without_node_the_tests_that_need_azurite_skip_by_name() -> None:
    """The test command on a machine without node: what needs Azurite is skipped, and the
    summary names each such test and why (pyproject's addopts has -rs)."""
    one = "tests/e2e/test_responses_state.py::test_second_instance_continues_what_the_first_stored"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", one + "_across_tiers"],
        cwd=REPO_ROOT,
        env=without_node(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, done.stdout
    assert "test_responses_state.py" in skipped[0]
    assert "needs Azurite for the Responses blob store" in skipped[0]
    assert "node not found on PATH" in skipped[0]
