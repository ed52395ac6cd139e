"""requirements.txt's floors cover what the code imports, and constraints.txt pins exactly the
closure that is installed here (what CI tests is what the deploy installs)."""

from __future__ import annotations

import ast
import importlib.util
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

from packaging.utils import canonicalize_name

from devtools.lock import CONSTRAINTS, REQUIREMENTS, closure, direct_requirements, read_pins

ROOT = Path(__file__).resolve().parents[2]
DEPLOYED_CODE = [ROOT / "function_app.py", *sorted((ROOT / "shared").rglob("*.py"))]
# Imported only when an operator opts in (OTEL_EXPORTER_OTLP_ENDPOINT), documented as extra.
OPTIONAL = {"opentelemetry-exporter-otlp-proto-http"}


def imported_top_levels() -> set[str]:
    names: set[str] = set()
    for path in DEPLOYED_CODE:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
    return names


@cache
def _top_level_owners() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def distributions_of(module: str) -> set[str]:
    """The installed distributions whose files hold `module` (namespace packages: the owner)."""
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:  # an optional package that is not installed
        spec = None
    candidates = _top_level_owners().get(module.split(".")[0], [])
    if spec is None or spec.origin is None:
        return {canonicalize_name(d) for d in candidates}
    origin = Path(spec.origin).resolve()
    owners = set()
    for name in candidates:
        dist = metadata.distribution(name)
        if any(Path(str(dist.locate_file(f))).resolve() == origin for f in dist.files or []):
            owners.add(canonicalize_name(name))
    return owners or {canonicalize_name(d) for d in candidates}


def test_every_imported_package_has_a_floor() -> None:
    listed = {canonicalize_name(r.name) for r in direct_requirements()}
    missing = {}
    for module in imported_top_levels():
        top = module.split(".")[0]
        if top in sys.stdlib_module_names or top == "shared" or top == "__future__":
            continue
        providers = distributions_of(module)
        if providers and not providers & (listed | OPTIONAL):
            missing[module] = sorted(providers)
    assert not missing, f"imported but not in requirements.txt: {missing}"


def test_floors_are_met_by_the_pins() -> None:
    pins = read_pins()
    for requirement in direct_requirements():
        pinned = pins[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(pinned, prereleases=True), (requirement, pinned)


def test_constraints_pin_the_installed_closure() -> None:
    assert read_pins() == closure(direct_requirements()), "run: python -m devtools lock"


def test_requirements_apply_the_constraints_and_deploy_ships_them() -> None:
    assert f"-c {CONSTRAINTS.name}" in REQUIREMENTS.read_text().splitlines()
    ignored = (ROOT / ".funcignore").read_text().splitlines()
    assert CONSTRAINTS.name not in ignored
    assert REQUIREMENTS.name not in ignored
