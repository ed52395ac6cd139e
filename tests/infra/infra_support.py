"""Reading the Bicep, parameter and pipeline files for the infra tests, offline.

pycep-parser turns Bicep into JSON whose expressions are nested operator/function objects;
`render` turns an expression back into compact Bicep-like text ("identity.outputs.clientId",
"1000 * d.capacity") so the tests can state wiring in the terms a reader of main.bicep uses.
pycep writes identifiers and string literals alike as plain strings, so rendered text does not
tell them apart: the tests compare in context.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
MAIN_BICEP = INFRA / "main.bicep"
CONTRACT = INFRA / "app-settings.json"
PARAMETER_FILES = [
    INFRA / "main.parameters.json",
    INFRA / "examples" / "gpt-5-mini.parameters.json",
    INFRA / "examples" / "two-regions.parameters.json",
]

Json = Any
_INTERPOLATION = re.compile(r"\$\{(\w+)\}")


@cache
def _parser() -> BicepParser:
    return BicepParser()


@cache
def parse_bicep(path: Path) -> Json:
    return _parser().parse(file_path=path)


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


def main_bicep() -> Json:
    return parse_bicep(MAIN_BICEP)


def module_file(module_name: str, template: Path = MAIN_BICEP) -> Path:
    """The .bicep file a module declaration in `template` points to."""
    module = parse_bicep(template)["modules"][module_name]
    return (template.parent / module["detail"]["path"]).resolve()


def module_config(module_name: str, template: Path = MAIN_BICEP) -> Json:
    """A module's body (name, scope, params, dependsOn), unwrapping `= if (...)`."""
    config = parse_bicep(template)["modules"][module_name]["config"]
    if "condition" in config and "config" in config:
        return config["config"]
    return config


def module_condition(module_name: str, template: Path = MAIN_BICEP) -> str | None:
    config = parse_bicep(template)["modules"][module_name]["config"]
    return render(config["condition"]) if "condition" in config else None


def modules_using(file_name: str, template: Path = MAIN_BICEP) -> list[str]:
    """Names of the module declarations in `template` that instantiate modules/<file_name>."""
    return [
        name
        for name in parse_bicep(template).get("modules", {})
        if module_file(name, template).name == file_name
    ]


def render(expr: Json) -> str:
    """Compact Bicep-like text for a pycep expression (enough for the constructs used here)."""
    if isinstance(expr, bool):
        return "true" if expr else "false"
    if expr is None:
        return "null"
    if isinstance(expr, int | float | str):
        return str(expr)
    if isinstance(expr, list):
        return "[" + ", ".join(render(e) for e in expr) + "]"
    if isinstance(expr, dict) and "operator" in expr:
        op = expr["operator"]
        kind, operands = op["type"], op["operands"]
        if kind == "property_accessor":
            return f"{render(operands['operand_1'])}.{render(operands['operand_2'])}"
        if kind == "index_accessor":
            return f"{render(operands['operand_1'])}[{render(operands['operand_2'])}]"
        if kind == "multiply":
            return f"{render(operands['operand_1'])} * {render(operands['operand_2'])}"
        if kind == "not":
            return f"!{render(operands['bool_value'])}"
        if kind == "equals":
            return f"({render(operands['operand_1'])} == {render(operands['operand_2'])})"
        if kind == "conditional":
            return (
                f"{render(operands['condition'])} ? {render(operands['true_value'])}"
                f" : {render(operands['false_value'])}"
            )
        return f"{kind}(" + ", ".join(render(v) for v in operands.values()) + ")"
    if isinstance(expr, dict) and "function" in expr:
        fn = expr["function"]
        args = ", ".join(render(v) for v in fn["parameters"].values() if v is not None)
        text = f"{fn['type']}({args})"
        if "property_name" in fn:  # older pycep: resourceGroup().location
            text += f".{fn['property_name']}"
        return text
    if isinstance(expr, dict) and "loop_type" in expr:
        detail = expr["loop_type"]["detail"]
        source = detail.get("array_name", detail.get("object_name"))
        return f"[for {detail['item_name']} in {render(source)}: ...]"
    return json.dumps(expr, sort_keys=True)


def evaluate(expr: Json, env: dict[str, Any]) -> Any:
    """Evaluate the literal subset used by parameter defaults and the tier loops.

    Plain strings are looked up in `env` (identifiers) and otherwise taken as literals, with
    `${name}` interpolated from `env`.
    """
    if isinstance(expr, str):
        if expr in env:
            return env[expr]
        return _INTERPOLATION.sub(lambda m: str(env.get(m[1], m[0])), expr)
    if isinstance(expr, bool | int | float) or expr is None:
        return expr
    if isinstance(expr, list):
        return [evaluate(e, env) for e in expr]
    if isinstance(expr, dict) and "function" in expr:
        fn = expr["function"]
        if fn["type"] == "json":
            return json.loads(fn["parameters"]["arg_1"])
        raise NotImplementedError(render(expr))
    if isinstance(expr, dict) and "operator" in expr:
        op = expr["operator"]
        kind, operands = op["type"], op["operands"]
        if kind == "property_accessor":
            target = evaluate(operands["operand_1"], env)
            key = operands["operand_2"]
            if not isinstance(key, str):
                raise NotImplementedError(render(expr))
            return target[key]
        if kind == "multiply":
            return evaluate(operands["operand_1"], env) * evaluate(operands["operand_2"], env)
        if kind == "equals":
            return evaluate(operands["operand_1"], env) == evaluate(operands["operand_2"], env)
        if kind == "conditional":
            chosen = "true_value" if evaluate(operands["condition"], env) else "false_value"
            return evaluate(operands[chosen], env)
        raise NotImplementedError(render(expr))
    if isinstance(expr, dict) and "loop_type" in expr:
        detail = expr["loop_type"]["detail"]
        items = evaluate(detail["array_name"], env)
        return [
            {k: evaluate(v, {**env, detail["item_name"]: item}) for k, v in expr["config"].items()}
            for item in items
        ]
    if isinstance(expr, dict):
        return {k.strip("'"): evaluate(v, env) for k, v in expr.items()}
    raise NotImplementedError(repr(expr))


def load_json(path: Path) -> Json:
    return json.loads(path.read_text())


def load_yaml(path: Path) -> Json:
    from ruamel.yaml import YAML  # YAML 1.2: a GitHub `on:` key stays the string "on"

    return YAML(typ="safe").load(path.read_text())


def contract() -> Json:
    return load_json(CONTRACT)


# Account names stand in for the hashed ones main.bicep derives (uniqueString is Azure's).
ACCOUNT_NAMES = {"foundryAccountName": "ais-test", "secondaryFoundryAccountName": "ais-test-2"}


def parameter_values(path: Path) -> dict[str, Any]:
    """Parameter values for a file: the file's values over main.bicep's defaults."""
    declared = main_bicep()["parameters"]
    values = {name: evaluate(p.get("default"), {}) for name, p in declared.items()}
    values.update({k: v["value"] for k, v in load_json(path)["parameters"].items()})
    return values


def router_tiers(path: Path) -> list[dict[str, Any]]:
    """ROUTER_TIERS as main.bicep computes it for this parameter file (its own tier loops)."""
    variables = main_bicep()["variables"]
    env: dict[str, Any] = {**parameter_values(path), **ACCOUNT_NAMES}
    # The endpoint variables are plain interpolated strings of the account names.
    for name, var in variables.items():
        if name.endswith("Endpoint") and isinstance(var["value"], str):
            env[name] = evaluate(var["value"], env)
    return evaluate(variables["primaryTiers"]["value"], env) + evaluate(
        variables["secondaryTiers"]["value"], env
    )
