"""Every description of `.ci/run` (the workflow's and the Azure pipeline's comments, the README,
the deployment guide) names every step it runs: a step added to .ci/run fails here until each
description says so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from infra_support import REPO

CI_RUN = REPO / ".ci" / "run"
# Each command of .ci/run (its first words) and what a description must say of it.
STEPS = {
    "python3 -m devtools.azurite": "Azurite",
    "python3 -m devtools.redis": "redis-server",
    "python3 -m devtools test": "tests",
    ".venv/bin/ruff check": "ruff check",
    ".venv/bin/ruff format": "ruff format --check",
    ".venv/bin/mypy": "mypy --strict",
    "bash infra/check.sh": "infra/check.sh",
}
DESCRIBED_IN = [
    REPO / ".github" / "workflows" / "ci.yml",
    REPO / "azure-pipelines.yml",
    REPO / "README.md",
    REPO / "docs" / "deployment.md",
]


def commands() -> list[str]:
    lines = [line.split("#")[0].strip() for line in CI_RUN.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith(("set ", "cd "))]


def descriptions(path: Path) -> list[str]:
    """The passages that name .ci/run: a YAML file's comment blocks, a Markdown paragraph."""
    text = path.read_text()
    if path.suffix == ".yml":
        blocks = re.findall(r"(?:^[ \t]*#.*\n)+", text, flags=re.MULTILINE)
        passages = [re.sub(r"^[ \t]*# ?", "", b, flags=re.MULTILINE) for b in blocks]
    else:
        passages = text.split("\n\n")
    found = [" ".join(p.split()) for p in passages if ".ci/run" in p]
    return found


def test_every_command_of_ci_run_has_a_step_here() -> None:
    unknown = [c for c in commands() if not any(c.startswith(step) for step in STEPS)]
    assert not unknown, (
        f"a new step in .ci/run: add it to STEPS and to every description: {unknown}"
    )
    assert len(commands()) == len(STEPS)


@pytest.mark.parametrize("path", DESCRIBED_IN, ids=lambda p: p.name)
def test_each_description_names_every_step(path: Path) -> None:
    passages = descriptions(path)
    assert passages, f"{path.name} no longer describes .ci/run"
    for passage in passages:
        missing = [said for said in STEPS.values() if said not in passage]
        assert not missing, f"{path.name}: {passage!r} leaves out {missing}"
