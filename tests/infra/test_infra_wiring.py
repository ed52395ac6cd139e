"""main.bicep sets the router's app-settings contract, grants the roles to the identity the app
runs as, and sizes the router's token budget from the same values that size the deployments."""

from __future__ import annotations

import re

import pytest
from infra_support import (
    INFRA,
    contract,
    main_bicep,
    module_condition,
    module_config,
    module_file,
    modules_using,
    parse_bicep,
    render,
)

FUNCTION_APP = INFRA / "modules" / "function-app.bicep"
FOUNDRY = INFRA / "modules" / "foundry.bicep"

# Built-in role definition IDs (checked against Microsoft's built-in roles list).
ROLE_GUIDS = {
    "Cognitive Services OpenAI User": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
    "Cognitive Services User": "a97b65f3-24c7-4388-baec-2e87135dc908",
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
}

# Role -> (rbac module file, resource type it must be scoped to) the router needs.
FOUNDRY_SCOPE = ("rbac-foundry.bicep", "Microsoft.CognitiveServices/accounts")
STORAGE_SCOPE = ("rbac-storage.bicep", "Microsoft.Storage/storageAccounts")
REQUIRED_ROLES = {
    "Cognitive Services OpenAI User": FOUNDRY_SCOPE,
    "Cognitive Services User": FOUNDRY_SCOPE,
    "Storage Blob Data Owner": STORAGE_SCOPE,
    "Storage Table Data Contributor": STORAGE_SCOPE,
    "Monitoring Metrics Publisher": ("rbac-monitoring.bicep", "Microsoft.Insights/components"),
}

APP_IDENTITY_PRINCIPAL = "identity.outputs.principalId"
APP_IDENTITY_CLIENT = "identity.outputs.clientId"


def app_settings() -> dict[str, object]:
    """The settings object main.bicep hands to the function app module."""
    passed = render(module_config("functionApp")["params"]["appSettings"])
    return main_bicep()["variables"][passed]["value"]


def site() -> dict:
    return parse_bicep(FUNCTION_APP)["resources"]["site"]["config"]


# --- app settings -------------------------------------------------------------------------------


def test_contract_file_is_well_formed() -> None:
    doc = contract()
    names = [s["name"] for s in doc["settings"]] + [s["name"] for s in doc["forbidden"]]
    assert len(names) == len(set(names))
    assert all(s["meaning"].strip() for s in doc["settings"])
    assert all(s["reason"].strip() for s in doc["forbidden"])


def test_function_app_module_is_the_function_app() -> None:
    assert module_file("functionApp").name == "function-app.bicep"


def test_every_contract_setting_is_set() -> None:
    wanted = [s["name"] for s in contract()["settings"]]
    missing = sorted(set(wanted) - set(app_settings()))
    assert not missing, f"main.bicep does not set {missing}"


def test_no_setting_outside_the_contract_or_forbidden() -> None:
    doc = contract()
    known = {s["name"] for s in doc["settings"]}
    forbidden = {s["name"] for s in doc["forbidden"]}
    settings = set(app_settings())
    assert not settings & forbidden
    assert settings <= known, f"add {sorted(settings - known)} to infra/app-settings.json"


@pytest.mark.parametrize(
    "setting", [s for s in contract()["settings"] if "value" in s], ids=lambda s: s["name"]
)
def test_fixed_setting_values(setting: dict) -> None:
    value = app_settings()[setting["name"]]
    if isinstance(value, str) and value in main_bicep()["parameters"]:
        value = main_bicep()["parameters"][value]["default"]  # set from a parameter
    assert value == setting["value"]


def test_settings_reach_the_site() -> None:
    """function-app.bicep writes every entry of its appSettings parameter onto the site."""
    loop = site()["properties"]["siteConfig"]["appSettings"]
    assert render(loop) == "[for setting in items(appSettings): ...]"
    assert render(loop["config"]["name"]) == "setting.key"
    assert render(loop["config"]["value"]) == "setting.value"


def test_identity_settings_use_the_app_identity() -> None:
    settings = app_settings()
    assert render(settings["AZURE_CLIENT_ID"]) == APP_IDENTITY_CLIENT
    assert render(settings["AzureWebJobsStorage__clientId"]) == APP_IDENTITY_CLIENT
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == (
        "ClientId=${" + APP_IDENTITY_CLIENT + "};Authorization=AAD"
    )


def test_endpoint_and_telemetry_come_from_the_resources() -> None:
    settings = app_settings()
    assert render(settings["FOUNDRY_ENDPOINT"]) == "foundry.outputs.endpoint"
    assert module_file("foundry").name == "foundry.bicep"
    outputs = parse_bicep(FOUNDRY)["outputs"]
    assert outputs["endpoint"]["value"] == "https://${name}.openai.azure.com"
    assert outputs["modelsEndpoint"]["value"] == "https://${name}.services.ai.azure.com"
    assert render(settings["APPLICATIONINSIGHTS_CONNECTION_STRING"]) == (
        "monitoring.outputs.connectionString"
    )
    for service in ("blob", "queue", "table"):
        uri = render(settings[f"AzureWebJobsStorage__{service}ServiceUri"])
        assert uri == f"storage.outputs.{service}Endpoint"


# --- identity -----------------------------------------------------------------------------------


def test_app_runs_as_the_user_assigned_identity() -> None:
    assert render(module_config("functionApp")["params"]["identityId"]) == "identity.outputs.id"
    identity = site()["identity"]
    assert identity["type"] == "UserAssigned"
    assert list(identity["userAssignedIdentities"]) == ["'${identityId}'"]
    auth = site()["properties"]["functionAppConfig"]["deployment"]["storage"]["authentication"]
    assert auth == {"type": "UserAssignedIdentity", "userAssignedIdentityResourceId": "identityId"}


# --- role assignments ---------------------------------------------------------------------------


def role_keys() -> dict[str, str]:
    """roleIds variable in main.bicep: key -> GUID."""
    return main_bicep()["variables"]["roleIds"]["value"]


def test_role_guids_are_the_built_in_ones() -> None:
    guids = set(role_keys().values())
    for name, guid in ROLE_GUIDS.items():
        assert guid in guids, f"{name} ({guid}) missing from roleIds"


@pytest.mark.parametrize("role", REQUIRED_ROLES)
def test_role_is_granted_to_the_app_identity(role: str) -> None:
    module_name, scope_type = REQUIRED_ROLES[role]
    key = next(k for k, v in role_keys().items() if v == ROLE_GUIDS[role])
    granting = []
    for name in modules_using(module_name):
        params = module_config(name)["params"]
        ids = [render(r) for r in params["roleDefinitionIds"]]
        if render(params["principalId"]) == APP_IDENTITY_PRINCIPAL and f"roleIds.{key}" in ids:
            granting.append(name)
    unconditional = [n for n in granting if module_condition(n) is None]
    assert unconditional, f"{role} is not granted to the app identity"

    # The module assigns each listed role to that principal, scoped to the right resource.
    template = parse_bicep(INFRA / "modules" / module_name)
    (assignments,) = [
        r["config"]
        for r in template["resources"].values()
        if r["type"] == "Microsoft.Authorization/roleAssignments"
    ]
    assert render(assignments) == "[for roleId in roleDefinitionIds: ...]"
    body = assignments["config"]
    scope = template["resources"][body["scope"]]
    assert scope["type"] == scope_type
    assert scope["existing"]
    assert body["properties"]["principalId"] == "principalId"
    assert render(body["properties"]["roleDefinitionId"]).endswith(", roleId)")


def test_function_app_waits_for_its_storage_and_telemetry_roles() -> None:
    depends = module_config("functionApp").get("dependsOn", [])
    assert set(modules_using("rbac-storage.bicep")) & set(depends)
    assert set(modules_using("rbac-monitoring.bicep")) & set(depends)


# --- deployments and the token budget -----------------------------------------------------------


def deployment_loop() -> tuple[dict, dict]:
    resources = parse_bicep(FOUNDRY)["resources"]
    kind = "Microsoft.CognitiveServices/accounts/deployments"
    (resource,) = [r for r in resources.values() if r["type"] == kind]
    return resource, resource["config"]


def test_deployments_are_created_one_at_a_time() -> None:
    resource, _ = deployment_loop()
    assert {"type": "batchSize", "argument": 1} in resource["decorators"]


def test_deployment_capacity_comes_from_the_parameter() -> None:
    _, loop = deployment_loop()
    item = loop["loop_type"]["detail"]["item_name"]
    assert loop["loop_type"]["detail"]["array_name"] == "deployments"
    sku = loop["config"]["sku"]
    assert render(sku["capacity"]) == f"{item}.capacity"
    assert render(sku["name"]) == f"{item}.skuName"
    assert render(loop["config"]["name"]) == f"{item}.deploymentName"
    assert render(module_config("foundry")["params"]["deployments"]) == "modelDeployments"
    assert render(module_config("foundrySecondary")["params"]["deployments"]) == (
        "secondaryModelDeployments"
    )


@pytest.mark.parametrize(
    ("tiers_var", "source"),
    [("primaryTiers", "modelDeployments"), ("secondaryTiers", "secondaryModelDeployments")],
)
def test_tier_tpm_is_the_capacity_or_the_foundry_models_limit(tiers_var: str, source: str) -> None:
    loop = main_bicep()["variables"][tiers_var]["value"]
    detail = loop["loop_type"]["detail"]
    assert detail["array_name"] == source
    item = detail["item_name"]
    assert render(loop["config"]["tpm"]) == (
        f"({item}.modelFormat == OpenAI) ? 1000 * {item}.capacity : foundryModelsTpm"
    )
    assert render(loop["config"]["deployment"]) == f"{item}.deploymentName"


def test_router_tiers_holds_both_tier_lists() -> None:
    assert render(app_settings()["ROUTER_TIERS"]) == "string(concat(primaryTiers, secondaryTiers))"


def test_tier_objects_have_the_contract_fields() -> None:
    fields = {
        "name", "deployment", "url_shape", "endpoint", "input_price_per_1m",
        "output_price_per_1m", "context_window", "capabilities", "reasoning_effort", "apis", "tpm",
        "fallbacks",
    }  # fmt: skip
    variables = main_bicep()["variables"]
    assert set(variables["primaryTiers"]["value"]["config"]) == fields
    assert set(variables["secondaryTiers"]["value"]["config"]) == fields


# --- resource properties the deployment requires -------------------------------------------------


def test_flex_consumption_plan_and_site() -> None:
    resources = parse_bicep(FUNCTION_APP)["resources"]
    plan = resources["plan"]["config"]
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    assert plan["properties"]["reserved"] is True
    props = site()["properties"]
    assert props["httpsOnly"] is True
    assert props["siteConfig"]["minTlsVersion"] == "1.2"
    assert props["siteConfig"]["ftpsState"] == "Disabled"
    config = props["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "pythonVersion"}
    assert parse_bicep(FUNCTION_APP)["parameters"]["pythonVersion"]["default"] == "3.11"
    scale = config["scaleAndConcurrency"]
    assert scale["instanceMemoryMB"] == "instanceMemoryMB"
    assert scale["maximumInstanceCount"] == "maximumInstanceCount"
    assert scale["triggers"]["http"]["perInstanceConcurrency"] == "httpPerInstanceConcurrency"


def test_per_instance_concurrency_default_suits_an_async_router() -> None:
    for template in (FUNCTION_APP, INFRA / "main.bicep"):
        default = parse_bicep(template)["parameters"]["httpPerInstanceConcurrency"]["default"]
        assert 16 <= default <= 64
    passed = module_config("functionApp")["params"]["httpPerInstanceConcurrency"]
    assert passed == "httpPerInstanceConcurrency"


def test_keyless_everywhere() -> None:
    storage = parse_bicep(INFRA / "modules" / "storage.bicep")["resources"]["storage"]["config"]
    assert storage["properties"]["allowSharedKeyAccess"] is False
    assert storage["properties"]["allowBlobPublicAccess"] is False
    assert storage["properties"]["minimumTlsVersion"] == "TLS1_2"
    monitoring = parse_bicep(INFRA / "modules" / "monitoring.bicep")["resources"]
    assert monitoring["appInsights"]["config"]["properties"]["DisableLocalAuth"] is True
    account = parse_bicep(FOUNDRY)["resources"]["account"]
    assert account["config"]["kind"] == "AIServices"
    assert account["config"]["sku"] == {"name": "S0"}
    assert account["config"]["properties"]["disableLocalAuth"] is True
    assert account["config"]["properties"]["customSubDomainName"] == "name"
    assert account["api_version"] >= "2024-10-01"


def test_deployment_package_container_exists() -> None:
    text = (INFRA / "modules" / "storage.bicep").read_text()
    assert re.search(r"resource \w+ 'containers' = \{\s*name: deploymentContainerName", text)
    assert "publicAccess: 'None'" in text


def test_outputs() -> None:
    outputs = main_bicep()["outputs"]
    for name in (
        "ROUTER_BASE_URL", "FOUNDRY_ENDPOINT", "FOUNDRY_DEPLOYMENT_NAMES",
        "AZURE_FUNCTION_APP_NAME", "AZURE_RESOURCE_GROUP",
    ):  # fmt: skip
        assert name in outputs
    assert render(outputs["ROUTER_BASE_URL"]["value"]) == "functionApp.outputs.baseUrl"
    base_url = parse_bicep(FUNCTION_APP)["outputs"]["baseUrl"]["value"]
    assert base_url == "https://${site.properties.defaultHostName}/api/v1"
