"""The optional Azure Managed Redis: off by default, Entra only, and the app's identity is the one
that may use it; ROUTER_REDIS_URL points the router at it."""

from __future__ import annotations

from infra_support import (
    INFRA,
    main_bicep,
    module_condition,
    module_config,
    module_file,
    parse_bicep,
    render,
)

REDIS = INFRA / "modules" / "redis.bicep"


def resources() -> dict:
    return {name: r["config"] for name, r in parse_bicep(REDIS)["resources"].items()}


def test_shared_state_is_a_parameter_off_by_default() -> None:
    parameter = main_bicep()["parameters"]["enableSharedState"]
    assert parameter["default"] is False
    assert module_file("redis").name == "redis.bicep"
    assert module_condition("redis") == "enableSharedState"


def test_the_router_is_pointed_at_it_only_when_it_exists() -> None:
    passed = render(module_config("functionApp")["params"]["appSettings"])
    setting = main_bicep()["variables"][passed]["value"]["ROUTER_REDIS_URL"]
    assert render(setting) == "enableSharedState ? redis.outputs.url : "


def test_no_access_keys_tls_only() -> None:
    found = resources()
    assert found["database"]["properties"]["accessKeysAuthentication"] == "Disabled"
    assert found["database"]["properties"]["clientProtocol"] == "Encrypted"
    assert found["cluster"]["properties"]["minimumTlsVersion"] == "1.2"
    url = parse_bicep(REDIS)["outputs"]["url"]["value"]
    assert url.startswith("rediss://")
    assert "@" not in url  # no password: the app's Entra token signs it in


def test_the_apps_identity_gets_the_default_access_policy() -> None:
    assignment = resources()["appAccess"]["properties"]
    assert assignment["accessPolicyName"] == "default"
    assert assignment["user"]["objectId"] == "appPrincipalId"
    passed = module_config("redis")["params"]["appPrincipalId"]
    assert render(passed) == "identity.outputs.principalId"


def test_one_api_version_for_the_cluster_its_database_and_access() -> None:
    versions = {r["api_version"] for r in parse_bicep(REDIS)["resources"].values()}
    assert versions == {"2025-07-01"}
