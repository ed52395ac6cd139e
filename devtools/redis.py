"""redis-server, Debian's package: the router's shared state (ROUTER_REDIS_URL) for
`python3 -m devtools up`, the tests and CI, as Azure Managed Redis is in Azure.

Standard library only (it runs before .venv exists).

    python3 -m devtools.redis --install   # apt-get install redis-server, once (CI does it)
    python3 -m devtools.redis             # serve on 127.0.0.1:6379 until Ctrl-C
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from devtools.children import die_with_parent, free_port, stop

PACKAGE = "redis-server"
DEFAULT_PORT = 6379


def binary() -> str | None:
    return shutil.which("redis-server")


def missing() -> str | None:
    """Why redis-server can neither run nor be installed here, or None."""
    if binary() is not None:
        return None
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return (
            "redis-server is not installed: `sudo apt-get install -y redis-server` "
            "(or any Redis 6.2+ on PATH)"
        )
    return None


def install() -> str:
    """apt-get install redis-server unless it is on PATH; returns the server binary."""
    found = binary()
    if found is not None:
        return found
    problem = missing()
    apt = shutil.which("apt-get")
    if problem or apt is None:
        raise RuntimeError(problem)
    print(f"installing {PACKAGE} with apt-get ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", PACKAGE]):
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    found = binary()
    if found is None:
        raise RuntimeError(f"{PACKAGE} installed, but redis-server is not on PATH")
    return found


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int
    data: tempfile.TemporaryDirectory[str]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        stop(self.process)

    def close(self) -> None:
        self.stop()
        self.data.cleanup()


def launch(server: str, port: int, data: str) -> subprocess.Popen[bytes]:
    """redis-server in the foreground on loopback, nothing persisted (state is a cache here)."""
    return subprocess.Popen(
        [
            *(server, "--port", str(port), "--bind", "127.0.0.1", "--dir", data),
            *("--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )


def wait_listening(process: subprocess.Popen[bytes], port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"redis-server did not listen on {port} within {timeout_s:g} s")


def start(port: int = 0, timeout_s: float = 15.0) -> RedisServer:
    """Start redis-server on loopback (a free port unless given), its files in a temp dir."""
    server = install()
    port = port or free_port()
    data = tempfile.TemporaryDirectory(prefix="redis-")
    process = launch(server, port, data.name)
    try:
        wait_listening(process, port, timeout_s)
    except RuntimeError:
        data.cleanup()
        raise
    return RedisServer(process, port, data)


def restart(server: RedisServer, timeout_s: float = 15.0) -> None:
    """Start a stopped server again on the same port (a fault test's "Redis is back")."""
    found = install()
    server.process = launch(found, server.port, server.data.name)
    wait_listening(server.process, server.port, timeout_s)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--install", action="store_true", help="only install it")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args()
    install()
    if args.install:
        return 0
    server = start(args.port)
    print(f"redis: {server.url}", flush=True)
    try:
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
