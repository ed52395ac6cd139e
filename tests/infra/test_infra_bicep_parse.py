"""Every Bicep file parses, and stays within the syntax checkov's older parser understands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from infra_support import INFRA, bicep_files, module_file, parse_bicep

ALL_BICEP = bicep_files()


def test_infra_has_bicep() -> None:
    names = {p.relative_to(INFRA).as_posix() for p in ALL_BICEP}
    assert "main.bicep" in names
    assert {"modules/foundry.bicep", "modules/function-app.bicep"} <= names


@pytest.mark.parametrize("path", ALL_BICEP, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_bicep_parses(path: Path) -> None:
    parsed = parse_bicep(path)
    assert parsed.get("resources") or parsed.get("modules"), f"{path} declares nothing"


# checkov pins an older pycep-parser: newer Bicep syntax would show up as parse errors there
# (and checkov exits 0 on those). Keep the templates to the classic subset.
NEWER_SYNTAX = {
    "safe dereference": re.compile(r"\.\?"),
    "lambda": re.compile(r"=>"),
    "spread": re.compile(r"\.\.\.\w"),
    "user-defined type": re.compile(r"^\s*(@export\(\)\s*)?type\s+\w+\s*=", re.MULTILINE),
    "user-defined function": re.compile(r"^\s*func\s+\w+", re.MULTILINE),
    "import": re.compile(r"^\s*import\s", re.MULTILINE),
    "null-coalescing": re.compile(r"\?\?"),
    "non-null assertion": re.compile(r"\w!\s*\.|\)!\."),
}


@pytest.mark.parametrize("path", ALL_BICEP, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_bicep_avoids_syntax_checkov_cannot_parse(path: Path) -> None:
    code = "\n".join(line.split("//", 1)[0] for line in path.read_text().splitlines())
    found = [name for name, pattern in NEWER_SYNTAX.items() if pattern.search(code)]
    assert not found, f"{path.name} uses {found}"


@pytest.mark.parametrize("path", ALL_BICEP, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_module_paths_exist(path: Path) -> None:
    for name in parse_bicep(path).get("modules", {}):
        assert module_file(name, path).is_file(), f"{path.name}: module {name} points nowhere"
