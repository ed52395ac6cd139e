"""`python -m devtools up`: the Foundry emulator and the router, wired together, on loopback."""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import subprocess
import sys
import threading

from devtools import azurite, redis
from devtools.process import ServerProcess, start_server

ROUTER_PORT = 7071
EMULATOR_PORT = 7072


def up(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m devtools up")
    parser.add_argument(
        "--port", type=int, default=ROUTER_PORT, help=f"router port (default {ROUTER_PORT})"
    )
    parser.add_argument(
        "--emulator-port",
        type=int,
        default=EMULATOR_PORT,
        help=f"Foundry emulator port (default {EMULATOR_PORT})",
    )
    parser.add_argument("--speed", default="1", help="emulator latency factor (0 = instant)")
    parser.add_argument(
        "--no-emulator", action="store_true", help="use FOUNDRY_ENDPOINT/ROUTER_TIERS as set"
    )
    parser.add_argument(
        "--no-azurite", action="store_true", help="keep Responses state in the router process"
    )
    parser.add_argument(
        "--no-redis", action="store_true", help="keep budgets, breakers and sessions per process"
    )
    args = parser.parse_args(argv)
    wanted = [("--port", args.port)]
    if not args.no_emulator:
        wanted.append(("--emulator-port", args.emulator_port))
    for flag, port in wanted:
        problem = port_problem(port)
        if problem:
            print(f"devtools up: port {port} {problem}; choose another: {flag} N", file=sys.stderr)
            return 2

    servers: list[ServerProcess] = []
    storage: azurite.Azurite | None = None
    shared: redis.RedisServer | None = None
    try:
        env: dict[str, str] = {}
        # Budgets, breakers, sessions and verdicts of every instance, as in Azure (Managed Redis).
        shared, shared_note = start_redis(args.no_redis)
        if shared is not None:
            env["ROUTER_REDIS_URL"] = shared.url
        store_note = in_process_store_note(args.no_azurite)
        if store_note is None:
            # The Responses API's state store (previous_response_id), as in Azure: blob storage.
            storage = azurite.start()
            env["ROUTER_RESPONSES_CONNECTION_STRING"] = storage.connection_string
            store_note = f"Azurite's blob service on port {storage.port}"
        if not args.no_emulator:
            emulator_args = ["--port", str(args.emulator_port), "--speed", args.speed]
            emulator = start_server(["-m", "devtools.emulator", *emulator_args])
            servers.append(emulator)
            env |= {
                "FOUNDRY_ENDPOINT": emulator.url,
                "FOUNDRY_API_KEY": "emulator-key",
                "ROUTER_AUTH_MODE": "key",
            }
        router = start_server(["-m", "devtools.localhost", "--port", str(args.port)], env=env)
        servers.append(router)
        emulator_url = servers[0].url if len(servers) > 1 else None
        print(
            banner(router.url, emulator_url, store_note, storage is not None, shared_note),
            flush=True,
        )
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        while not stopped.is_set() and all(s.process.poll() is None for s in servers):
            stopped.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for server in reversed(servers):
            server.stop()
        if shared is not None:
            shared.close()  # first: quick, and nothing else it stops can keep it alive
        if storage is not None:
            storage.stop()
    return 0


def start_redis(no_redis: bool) -> tuple[redis.RedisServer | None, str]:
    """redis-server on a free port and what the banner says of it; or why the router runs
    without (one line), and None."""
    local = "kept in the router's process (one instance)"
    if no_redis:
        return None, f"{local} (--no-redis)"
    try:
        server = redis.start()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        return None, f"{local} (redis-server is off: {exc})"
    return server, f"redis-server at {server.url} (budgets, breakers, sessions, verdicts)"


def in_process_store_note(no_azurite: bool) -> str | None:
    """What the Responses store is when it is not Azurite (asked, or node/npm missing), or None
    when Azurite can run."""
    local = "stored in the router's process: local only, lost when it stops"
    if no_azurite:
        return f"{local} (--no-azurite)"
    problem = azurite.missing()
    if problem:
        return f"{local} (Azurite is off: {problem}; install node and npm for the blob store)"
    return None


def port_problem(port: int, host: str = "127.0.0.1") -> str | None:
    """Why `port` cannot be served on `host` (e.g. another `devtools up` holds it), or None."""
    if port == 0:
        return None  # any free port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers bind (devtools/serve.py): a connection of the last run still in
        # TIME_WAIT does not make the port taken; a listening socket still does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "is already in use (another `python3 -m devtools up`, or `func start`?)"
            return f"cannot be used ({exc.strerror})"
    return None


def banner(
    router_url: str,
    emulator_url: str | None,
    store: str,
    azurite_runs: bool,
    shared: str = "kept in the router's process (one instance)",
) -> str:
    """What runs where, and examples to paste as they are (a shell line, then Python lines with
    no indentation, so that they paste into `python3` too)."""
    keyed = bool(os.environ.get("LOCAL_FUNCTION_KEY"))
    key_note = " (LOCAL_FUNCTION_KEY enforced)" if keyed else ""
    running = ["the router"]
    lines = [f"router:    {router_url}/api{key_note}"]
    if emulator_url:
        running.append("the emulator")
        lines.append(f"emulator:  {emulator_url} (offline stand-in for Azure AI Foundry)")
    if azurite_runs:
        running.append("Azurite")
    if shared.startswith("redis-server"):
        running.append("redis-server")
    lines.append(f"responses: {store}")
    lines.append(f"state:     {shared}")
    stops = ", ".join(running[:-1]) + " and " + running[-1] if len(running) > 1 else running[0]
    body = '{"model": "auto", "messages": [{"role": "user", "content": "hi"}]}'
    lines += [
        "",
        "Try it with curl:",
        "",
        f"curl -si {router_url}/api/v1/chat/completions -H 'content-type: application/json' "
        # The key by name, not by value: the shell that runs the example has it.
        + ('-H "x-functions-key: $LOCAL_FUNCTION_KEY" ' if keyed else "")
        + f"-d '{body}'",
        "",
        "or with the OpenAI SDK (pip install openai), in python3:",
        "",
        *(KEYED_SNIPPET if keyed else SNIPPET).format(base_url=f"{router_url}/api/v1").splitlines(),
        "",
        f"Ctrl-C stops {stops}.",
    ]
    return "\n".join(lines)


SNIPPET = """from openai import OpenAI
# in Azure, add default_headers={{"x-functions-key": "<function key>"}} to OpenAI(...)
client = OpenAI(base_url="{base_url}", api_key="unused")
ask = [{{"role": "user", "content": "Plan a three-step migration to Postgres"}}]
reply = client.chat.completions.create(model="auto", messages=ask)
print(reply.model, reply.choices[0].message.content)"""
# The same with the local host's key (LOCAL_FUNCTION_KEY, read from the environment) sent.
KEYED_SNIPPET = SNIPPET.replace(
    "from openai import OpenAI\n",
    "import os\nfrom openai import OpenAI\n",
).replace(
    'api_key="unused")',
    'api_key="unused", default_headers={{"x-functions-key": os.environ["LOCAL_FUNCTION_KEY"]}})',
)
