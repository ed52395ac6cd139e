"""Project commands that work on a fresh machine with only python3.

    python3 -m devtools up      # Foundry emulator + router on http://127.0.0.1:7071/api
                                # (--port, --emulator-port, --speed; see --help)
    python3 -m devtools test    # the test suite (extra arguments go to pytest)
    python3 -m devtools lock    # re-pin constraints.txt after changing requirements.txt

The first run creates .venv and installs requirements-dev.txt into it; later runs reinstall
only when a requirements file changed. Standard library only until we are inside .venv.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".requirements.sha256"
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt", "constraints.txt")


def requirements_digest() -> str:
    digest = hashlib.sha256()
    for name in REQUIREMENTS:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_venv() -> None:
    """Create or refresh .venv, then re-run this command with its interpreter."""
    first = not VENV_PYTHON.exists()
    if first:
        print("first run: creating .venv ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    wanted = requirements_digest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        what = "installing" if first else "updating (a requirements file changed)"
        print(
            f"{what} requirements-dev.txt into .venv; pip's progress follows"
            + (" (a few minutes the first time) ..." if first else " ..."),
            flush=True,
        )
        # pip's own output is the progress: one line per package collected and installed.
        pip = [str(VENV_PYTHON), "-m", "pip", "install", "--disable-pip-version-check"]
        pip += ["--progress-bar", "off"] if not sys.stdout.isatty() else []
        subprocess.run([*pip, "-r", str(ROOT / "requirements-dev.txt")], check=True, cwd=ROOT)
        STAMP.write_text(wanted)
        print(".venv is ready.", flush=True)
    if Path(sys.prefix).resolve() != VENV.resolve():
        os.chdir(ROOT)
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), "-m", "devtools", *sys.argv[1:]])


def main() -> int:
    command, *rest = sys.argv[1:] or ["help"]
    if command not in ("up", "test", "lock"):
        print(__doc__)
        return 0 if command == "help" else 2
    ensure_venv()
    if command == "test":
        from devtools import azurite

        problem = azurite.missing()
        if problem:
            print(
                f"devtools test: Azurite is off ({problem}): the tests that need the Responses "
                "blob store are skipped, each named in the summary; install node and npm to run "
                "them.",
                flush=True,
            )
        from devtools import redis

        problem = redis.missing()
        if problem:
            print(
                f"devtools test: {problem}: the tests of the shared state are skipped, each "
                "named in the summary.",
                flush=True,
            )
        return subprocess.call([sys.executable, "-m", "pytest", *rest], cwd=ROOT)
    if command == "lock":
        from devtools.lock import main as lock

        return lock()
    from devtools.up import up

    return up(rest)


if __name__ == "__main__":
    sys.exit(main())
