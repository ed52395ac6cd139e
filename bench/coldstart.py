"""Cold start: import time of function_app, and process start -> first answered request of the
local host (devtools.localhost, the same handlers the Functions host serves).

Each measurement is the median of --runs fresh processes; `python -X importtime` attributes the
import time to the top-level packages that function_app pulls in.

Run: .venv/bin/python -m bench.coldstart [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

from bench.common import procs, servers
from bench.common.stats import median
from bench.common.table import markdown

ENV = {"FOUNDRY_ENDPOINT": "http://127.0.0.1:9", "FOUNDRY_API_KEY": "unused"}
LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")
GROUPS = (
    ("shared (the router)", ("shared",)),
    ("function_app itself", ("function_app",)),
    ("azurefunctions.extensions (fastapi, uvicorn)", ("azurefunctions",)),
    ("azure.functions (werkzeug)", ("azure",)),
)


def run_python(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        cwd=procs.REPO_ROOT,
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def wall(code: str) -> float:
    """Spawn -> exit of `python -c code`, less the interpreter's teardown (os._exit): a cold
    start never pays it, and it varies with the collector's settings (gc.freeze() halves it)."""
    started = time.perf_counter()
    run_python(f"{code}; import os; os._exit(0)")
    return time.perf_counter() - started


def import_breakdown() -> list[list[object]]:
    """Self time of every module, summed by the top-level import of function_app it came with."""
    err = run_python("import function_app", "-X", "importtime").stderr
    totals: dict[str, float] = defaultdict(float)
    pending = 0  # importtime prints a module after its imports: they belong to the next top one
    for match in LINE.finditer(err):
        self_us, _, indent, name = match.groups()
        pending += int(self_us)
        if len(indent) // 2 <= 1:  # function_app or one of its direct imports
            totals[name] += pending
            pending = 0
    grouped: dict[str, float] = defaultdict(float)
    for top, us in totals.items():
        label = next((g for g, prefixes in GROUPS if top.split(".")[0] in prefixes), "other")
        grouped[label] += us
    whole = sum(grouped.values())
    return [
        [label, f"{us / 1000:.0f}", f"{100 * us / whole:.0f}%"]
        for label, us in sorted(grouped.items(), key=lambda kv: -kv[1])
    ]


def first_answer(emulator: procs.Proc, body: bytes, client: httpx.Client) -> tuple[float, float]:
    """Seconds from spawning the local host to (port open, first 200 answer)."""
    port = procs.free_port()
    env = {**os.environ, "FOUNDRY_ENDPOINT": emulator.url, "FOUNDRY_API_KEY": servers.EMULATOR_KEY}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.localhost", "--port", str(port)],
        cwd=procs.REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        opened = None
        deadline = started + 60
        while time.perf_counter() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    opened = time.perf_counter() - started
                    break
            except OSError:
                time.sleep(0.005)
        reply = client.post(
            f"http://127.0.0.1:{port}/api/v1/chat/completions",
            content=body,
            headers={"content-type": "application/json"},
        )
        answered = time.perf_counter() - started
        reply.raise_for_status()
        assert opened is not None
        return opened, answered
    finally:
        process.terminate()
        process.wait(10)


def first_request_imports(emulator: procs.Proc, body: bytes) -> list[list[object]]:
    """Modules a local host imports only when its first request arrives (-X importtime)."""
    port = procs.free_port()
    env = {**os.environ, "FOUNDRY_ENDPOINT": emulator.url, "FOUNDRY_API_KEY": servers.EMULATOR_KEY}
    with tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "devtools.localhost", "--port", str(port)],
            cwd=procs.REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            for _ in range(600):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    time.sleep(0.05)
            time.sleep(0.2)  # let start-up finish writing its lines
            seen = err.tell()
            url = f"http://127.0.0.1:{port}/api/v1/chat/completions"
            with httpx.Client(timeout=30) as client:
                started = time.perf_counter()
                client.post(url, content=body).raise_for_status()
                first = time.perf_counter() - started
                started = time.perf_counter()
                client.post(url, content=body).raise_for_status()
                second = time.perf_counter() - started
        finally:
            process.terminate()
            process.wait(10)
        err.seek(seen)
        late = err.read()
    tops = [(m.group(4), int(m.group(2))) for m in LINE.finditer(late) if not m.group(3)]
    rows: list[list[object]] = [
        ["first chat request (client side)", f"{first * 1000:.0f}"],
        ["second chat request", f"{second * 1000:.0f}"],
    ]
    rows += [
        [f"imported during the first request: {name}", f"{us / 1000:.0f}"]
        for name, us in sorted(tops, key=lambda t: -t[1])[:6]
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bare, imported, times = [], [], []
    print(f"# cold start (median of {args.runs} fresh processes)\n")
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        emulator = servers.start_emulator(Path(tmp), [], speed=0)
        client = httpx.Client(timeout=30)  # made up front: its own set-up is not measured
        try:
            body = b'{"model":"auto","messages":[{"role":"user","content":"hi"}]}'
            for _ in range(args.runs):  # interleaved, so a noisy minute hits all three alike
                bare.append(wall("pass"))
                imported.append(wall("import function_app"))
                times.append(first_answer(emulator, body, client))
            late = first_request_imports(emulator, body)
        finally:
            client.close()
            emulator.stop()
    rows = [
        ["python -c pass (interpreter start)", f"{median(bare) * 1000:.0f}"],
        ["python -c 'import function_app'", f"{median(imported) * 1000:.0f}"],
        [
            "import function_app, less interpreter start",
            f"**{(median(imported) - median(bare)) * 1000:.0f}**",
        ],
        ["local host: spawn -> port accepts", f"{median([t[0] for t in times]) * 1000:.0f}"],
        [
            "local host: spawn -> first answered chat request",
            f"**{median([t[1] for t in times]) * 1000:.0f}**",
        ],
    ]
    print(markdown(["measure", "ms"], rows) + "\n")
    print("The first request, in one more local host (`-X importtime`):\n")
    print(markdown(["measure", "ms"], late) + "\n")
    print(
        "Import self-time of `import function_app` (`-X importtime`, one run), by what "
        "function_app imported:\n"
    )
    print(markdown(["imported with", "ms", "share"], import_breakdown()))


if __name__ == "__main__":
    main()
