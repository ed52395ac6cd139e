"""The Responses API state in Bicep: its container in the app's own storage account, a lifecycle
rule at the router's TTL, the settings that name both, and no role beyond the host's own."""

from __future__ import annotations

from tests.infra.infra_support import INFRA, main_bicep, module_config, parse_bicep, render


def test_lifecycle_rule_deletes_the_container_blobs_after_the_ttl() -> None:
    resources = parse_bicep(INFRA / "modules" / "storage.bicep")["resources"]
    policy = resources["storage__responsesLifecycle"]["config"]["properties"]["policy"]
    [rule] = policy["rules"]
    definition = rule["definition"]
    assert rule["enabled"] is True
    assert definition["filters"]["prefixMatch"] == ["${responsesContainerName}/"]
    delete = definition["actions"]["baseBlob"]["delete"]
    assert delete == {"daysAfterModificationGreaterThan": "responsesTtlDays"}


def test_router_settings_and_storage_share_container_and_ttl() -> None:
    params = module_config("storage")["params"]
    assert params["responsesContainerName"] == "responsesContainerName"
    assert params["responsesTtlDays"] == "responsesTtlDays"
    settings = main_bicep()["variables"]["appSettings"]["value"]
    assert settings["ROUTER_RESPONSES_CONTAINER"] == "responsesContainerName"
    assert "responsesTtlDays" in render(settings["ROUTER_RESPONSES_TTL_S"])
    assert "86400" in render(settings["ROUTER_RESPONSES_TTL_S"])


def test_openai_tiers_say_they_speak_responses() -> None:
    for name in ("primaryTiers", "secondaryTiers"):
        apis = render(main_bicep()["variables"][name]["value"]["config"]["apis"])
        assert "'responses'" in apis or "responses" in apis
        assert "OpenAI" in apis
