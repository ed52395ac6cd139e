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
        if not args.no_redis:
            # Budgets, breakers, sessions and verdicts shared as in Azure (Azure Managed Redis).
            shared = start_redis()
            if shared is not None:
                env["ROUTER_REDIS_URL"] = shared.url
        if not args.no_azurite:
            # The Responses API's state store (previous_response_id), as in Azure: blob storage.
            storage = azurite.start()
            env["ROUTER_RESPONSES_CONNECTION_STRING"] = storage.connection_string
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
        print(banner(router.url, servers[0].url if len(servers) > 1 else None), flush=True)
        if storage is not None:
            print(f"azurite:  blob service on port {storage.port} (Responses state)", flush=True)
        if shared is not None:
            print(f"redis:    {shared.url} (shared state: budgets, breakers, sessions)", flush=True)
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        while not stopped.is_set() and all(s.process.poll() is None for s in servers):
            stopped.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for server in reversed(servers):
            server.stop()
        if storage is not None:
            storage.stop()
        if shared is not None:
            shared.close()
    return 0


def start_redis() -> redis.RedisServer | None:
    """redis-server on a free port, or None with one line saying why the router runs without."""
    try:
        return redis.start()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        print(f"redis:    not started ({exc}); state stays per process", flush=True)
        return None


def port_problem(port: int, host: str = "127.0.0.1") -> str | None:
    """Why `port` cannot be served on `host` (e.g. another `devtools up` holds it), or None."""
    if port == 0:
        return None  # any free port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "is already in use (another `python3 -m devtools up`, or `func start`?)"
            return f"cannot be used ({exc.strerror})"
    return None


def banner(router_url: str, emulator_url: str | None) -> str:
    key_note = "" if not os.environ.get("LOCAL_FUNCTION_KEY") else " (LOCAL_FUNCTION_KEY enforced)"
    lines = [
        f"router:   {router_url}/api{key_note}",
        f"emulator: {emulator_url} (offline stand-in for Azure AI Foundry)" if emulator_url else "",
        "",
        "try it:",
        f"  curl -s {router_url}/api/v1/chat/completions -H 'content-type: application/json' \\",
        '    -d \'{"model": "auto", "messages": [{"role": "user", "content": "hi"}]}\' -i',
        "",
        "  # pip install openai",
        "  from openai import OpenAI",
        f'  client = OpenAI(base_url="{router_url}/api/v1", api_key="unused",',
        '                  default_headers={"x-functions-key": "<function key in Azure>"})',
        '  reply = client.chat.completions.create(model="auto", messages=[',
        '      {"role": "user", "content": "Plan a three-step migration to Postgres"}])',
        "  print(reply.model, reply.choices[0].message.content)",
        "",
        "Ctrl-C stops both.",
    ]
    return "\n".join(line for line in lines if line is not None)
