"""What runs before .venv exists (the two README commands' bootstrap, and .ci/run's installs of
Azurite and redis-server) imports the standard library only."""

from __future__ import annotations

import subprocess
import sys

import pytest

from devtools.process import REPO_ROOT


@pytest.mark.parametrize("module", ["devtools.__main__", "devtools.azurite", "devtools.redis"])
def test_runs_on_a_bare_python(module: str) -> None:
    # -S: no site-packages, as on a fresh machine's python3
    imported = subprocess.run(
        [sys.executable, "-S", "-c", f"import {module}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0, imported.stderr
