"""Azurite, the Azure Storage emulator, from npm into .azurite/ (gitignored): the Responses
state store's blob service for `python3 -m devtools up`, the tests and CI.

Standard library only (it runs before .venv exists). Needs node and npm on PATH; without them
`missing()` says so, `up` keeps the Responses store in its process and the tests that need it skip.

    python3 -m devtools.azurite --install   # npm install, once (CI does it up front)
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from devtools.children import die_with_parent, free_port, stop

ROOT = Path(__file__).resolve().parent.parent
HOME = ROOT / ".azurite"
BLOB = HOME / "node_modules" / ".bin" / "azurite-blob"
PACKAGE = "azurite@3"
# Azurite's documented well-known development account (not a secret).
# https://learn.microsoft.com/azure/storage/common/storage-use-azurite#well-known-storage-account-and-key
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class Unavailable(RuntimeError):
    """Azurite cannot run here: what is missing, in one line a user can act on."""


def missing() -> str | None:
    """Why Azurite cannot be started on this machine (node or npm not on PATH), or None."""
    needed = ["node"] if BLOB.exists() else ["node", "npm"]
    absent = [tool for tool in needed if shutil.which(tool) is None]
    if absent:
        return f"{' and '.join(absent)} not found on PATH"
    return None


def install() -> Path:
    """npm install azurite into .azurite/ unless it is there; returns the blob service binary."""
    if BLOB.exists():
        return BLOB
    problem = missing()
    npm = shutil.which("npm")
    if problem or npm is None:
        raise Unavailable(f"Azurite needs node and npm ({problem}; apt-get install nodejs npm)")
    HOME.mkdir(exist_ok=True)
    command = [npm, "install", "--no-audit", "--no-fund", "--prefix", str(HOME), PACKAGE]
    run_with_progress(command, f"installing {PACKAGE} into {HOME} (once)")
    return BLOB


def run_with_progress(command: list[str], label: str, every_s: float = 1.0) -> None:
    """Run `command` quietly, printing `label` and then a dot every `every_s` seconds while it
    runs (an npm install says nothing for 10-30 s), and its output only if it fails."""
    print(f"{label} ...", end="", flush=True)
    started = time.monotonic()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        while True:
            try:
                process.wait(every_s)
                break
            except subprocess.TimeoutExpired:
                print(".", end="", flush=True)
        if process.returncode != 0:
            output.seek(0)
            print(" failed:", flush=True)
            print(output.read().decode(errors="replace"), flush=True)
            raise subprocess.CalledProcessError(process.returncode, command)
    print(f" done in {time.monotonic() - started:.0f} s", flush=True)


def connection_string(port: int) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
    )


@dataclass
class Azurite:
    process: subprocess.Popen[bytes]
    port: int
    data: tempfile.TemporaryDirectory[str]

    @property
    def connection_string(self) -> str:
        return connection_string(self.port)

    def stop(self) -> None:
        stop(self.process)
        self.data.cleanup()


def start(port: int = 0, timeout_s: float = 30.0) -> Azurite:
    """Start Azurite's blob service on loopback (a free port unless given), data in a temp dir."""
    binary = install()
    port = port or free_port()
    data = tempfile.TemporaryDirectory(prefix="azurite-")
    process = subprocess.Popen(
        [
            str(binary),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            data.name,
            "--silent",
            # The storage SDK may speak a newer service version than this Azurite knows.
            "--skipApiVersionCheck",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            data.cleanup()
            raise RuntimeError(f"Azurite exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return Azurite(process, port, data)
        except OSError:
            time.sleep(0.1)
    process.kill()
    data.cleanup()
    raise RuntimeError(f"Azurite did not listen on {port} within {timeout_s:g} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--install", action="store_true", help="only install it")
    args = parser.parse_args()
    install()
    if args.install:
        return 0
    azurite = start(10000)
    print(f"azurite blob: {azurite.connection_string}", flush=True)
    try:
        azurite.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        azurite.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
