"""The parameter files: well-formed for main.bicep, and the ROUTER_TIERS they produce is a tier
table the router can use (evaluated from main.bicep's own tier loops, not re-implemented)."""

from __future__ import annotations

from pathlib import Path

import pytest
from infra_support import (
    INFRA,
    PARAMETER_FILES,
    evaluate,
    load_json,
    main_bicep,
    parameter_values,
    router_tiers,
)

from shared.settings import load_settings
from shared.upstream.urls import url_shape_for_format

DEPLOYMENT_FIELDS = {
    "tier", "deploymentName", "modelFormat", "modelName", "modelVersion", "skuName", "capacity",
    "inputPricePer1M", "outputPricePer1M", "contextWindow", "capabilities", "reasoningEffort",
    "fallbacks",
}  # fmt: skip
AZD_PLACEHOLDERS = {
    "environmentName": "${AZURE_ENV_NAME}",
    "location": "${AZURE_LOCATION}",
    "principalId": "${AZURE_PRINCIPAL_ID}",
}


ids = [p.relative_to(INFRA).as_posix() for p in PARAMETER_FILES]


@pytest.mark.parametrize("path", PARAMETER_FILES, ids=ids)
def test_parameter_file_matches_main_bicep(path: Path) -> None:
    doc = load_json(path)
    assert "deploymentParameters.json" in doc["$schema"]
    declared = main_bicep()["parameters"]
    given = doc["parameters"]
    assert set(given) <= set(declared), f"unknown parameters {set(given) - set(declared)}"
    required = {name for name, p in declared.items() if p.get("default") is None}
    assert required <= set(given), f"missing {required - set(given)}"
    for name, placeholder in AZD_PLACEHOLDERS.items():
        assert given[name]["value"] == placeholder


@pytest.mark.parametrize("path", PARAMETER_FILES, ids=ids)
def test_deployment_entries(path: Path) -> None:
    values = parameter_values(path)
    entries = values["modelDeployments"] + values["secondaryModelDeployments"]
    for entry in entries:
        assert set(entry) == DEPLOYMENT_FIELDS, entry.get("tier")
        assert isinstance(entry["capacity"], int)
        assert entry["capacity"] > 0
        assert entry["modelFormat"] in {"OpenAI", "Microsoft"}
        assert entry["skuName"] == "GlobalStandard"
        for price in ("inputPricePer1M", "outputPricePer1M"):
            assert isinstance(entry[price], int | float)
            assert entry[price] > 0
    if values["secondaryModelDeployments"]:
        assert values["secondaryFoundryLocation"], "secondary deployments need a location"


@pytest.mark.parametrize("path", PARAMETER_FILES, ids=ids)
def test_router_tiers_are_usable(path: Path) -> None:
    values = parameter_values(path)
    tiers = router_tiers(path)
    names = [t["name"] for t in tiers]
    assert len(names) == len(set(names)), "tier names must be unique"
    assert values["smallTier"] in names
    assert values["largeTier"] in names
    deployments = values["modelDeployments"] + values["secondaryModelDeployments"]
    for tier, entry in zip(tiers, deployments, strict=True):
        if entry["modelFormat"] == "OpenAI":
            assert tier["tpm"] == entry["capacity"] * 1000  # the budget is the provisioned quota
        else:
            assert tier["tpm"] == values["foundryModelsTpm"]  # Foundry Models' own limit
        assert tier["deployment"] == entry["deploymentName"]
        assert tier["url_shape"] == url_shape_for_format(entry["modelFormat"])
        assert set(tier["fallbacks"]) <= set(names) - {tier["name"]}
    primary = tiers[: len(values["modelDeployments"])]
    secondary = tiers[len(values["modelDeployments"]) :]
    assert all("//ais-test." in t["endpoint"] for t in primary)
    assert all("//ais-test-2." in t["endpoint"] for t in secondary)


def test_defaults_are_phi_4_mini_gpt_5_nano_and_gpt_5() -> None:
    tiers = {t["name"]: t for t in router_tiers(INFRA / "main.parameters.json")}
    assert list(tiers) == ["small", "small-tools", "large"]
    assert tiers["small"]["deployment"] == "Phi-4-mini"
    assert (tiers["small"]["input_price_per_1m"], tiers["small"]["output_price_per_1m"]) == (
        0.075,
        0.30,
    )
    assert tiers["small"]["capabilities"] == []
    nano = tiers["small-tools"]
    assert nano["deployment"] == "gpt-5-nano"
    assert (nano["input_price_per_1m"], nano["output_price_per_1m"]) == (0.05, 0.40)
    assert {"tools", "json_schema", "reasoning"} <= set(nano["capabilities"])
    assert nano["reasoning_effort"] == "minimal"
    assert tiers["large"]["deployment"] == "gpt-5"
    assert (tiers["large"]["input_price_per_1m"], tiers["large"]["output_price_per_1m"]) == (
        1.25,
        10.00,
    )
    assert {"tools", "json_schema", "reasoning"} <= set(tiers["large"]["capabilities"])
    formats = {
        d["tier"]: d["modelFormat"]
        for d in parameter_values(INFRA / "main.parameters.json")["modelDeployments"]
    }
    assert formats == {"small": "Microsoft", "small-tools": "OpenAI", "large": "OpenAI"}


def test_deployed_tiers_match_the_router_defaults() -> None:
    """Without ROUTER_TIERS the router runs the same table the Bicep deploys (local runs, the
    emulator, the docs): deployments, prices, capabilities and efforts agree."""
    deployed = router_tiers(INFRA / "main.parameters.json")
    local = load_settings({"FOUNDRY_ENDPOINT": "https://ais-test.openai.azure.com"}).tiers
    for tier, entry in zip(local, deployed, strict=True):
        assert tier.name == entry["name"]
        assert tier.deployment == entry["deployment"]
        assert tier.input_price_per_1m == entry["input_price_per_1m"]
        assert tier.output_price_per_1m == entry["output_price_per_1m"]
        assert tier.capabilities == frozenset(entry["capabilities"])
        assert tier.reasoning_effort == (entry["reasoning_effort"] or None)
        assert tier.apis == frozenset(entry["apis"])


def test_main_parameters_repeat_the_bicep_defaults() -> None:
    """azd uses the file, `az deployment` without it uses the defaults: they must agree."""
    defaults = evaluate(main_bicep()["parameters"]["modelDeployments"]["default"], {})
    given = load_json(INFRA / "main.parameters.json")["parameters"]["modelDeployments"]["value"]
    assert given == defaults


def test_gpt_5_mini_example() -> None:
    """The large tier without registration: gpt-5-mini, a reasoning model like GPT-5."""
    path = INFRA / "examples" / "gpt-5-mini.parameters.json"
    tiers = {t["name"]: t for t in router_tiers(path)}
    assert tiers["large"]["deployment"] == "gpt-5-mini"
    assert (tiers["large"]["input_price_per_1m"], tiers["large"]["output_price_per_1m"]) == (
        0.25,
        2.00,
    )
    assert "reasoning" in tiers["large"]["capabilities"]
    assert tiers["large"]["context_window"] == 400000
    # The other tiers are the defaults, gpt-5-nano needing no registration either.
    defaults = {t["name"]: t for t in router_tiers(INFRA / "main.parameters.json")}
    assert tiers["small"] == defaults["small"]
    assert tiers["small-tools"] == defaults["small-tools"]


def test_two_regions_example() -> None:
    path = INFRA / "examples" / "two-regions.parameters.json"
    tiers = {t["name"]: t for t in router_tiers(path)}
    assert tiers["large"]["fallbacks"] == ["large-2"]
    assert tiers["large-2"]["endpoint"] == "https://ais-test-2.openai.azure.com"
    assert tiers["large"]["endpoint"] == "https://ais-test.openai.azure.com"
    location = load_json(path)["parameters"]["secondaryFoundryLocation"]["value"]
    assert location.startswith("${AZURE_SECONDARY_LOCATION")
