"""The router's side of the app-settings contract: every setting it reads is accounted for."""

from __future__ import annotations

import json
from typing import Any

from shared.settings import load_settings
from tests.infra.infra_support import CONTRACT

# Settings with a default that is right in Azure too: main.bicep need not set them.
DEFAULTS_FIT_AZURE = {
    "ROUTER_RESPONSES_BLOB_URL": "AzureWebJobsStorage__blobServiceUri, the app's own account",
    "ROUTER_CLASSIFIER_TIER": "the small tier",
    "ROUTER_DEFAULT_TIER": "the large tier",
    "ROUTER_CLASSIFIER_TIMEOUT_MS": "1 s, well above Phi-4-mini's 50-150 ms",
    "ROUTER_CLASSIFIER_CACHE_TTL_S": "5 minutes",
    "ROUTER_CLASSIFIER_CACHE_SIZE": "10,000 verdicts",
    "ROUTER_MAX_BODY_BYTES": "4 MiB",
    "ROUTER_BODY_TIMEOUT_S": "30 s to receive a body of at most 4 MiB",
    "ROUTER_SESSION_TTL_S": "30 minutes of escalate-only stickiness",
    "ROUTER_SESSION_MAX": "100,000 sessions in memory per instance",
    "ROUTER_TOOL_LOOP": "per-turn: every agent turn decided on its own (README, tool loops)",
    "ROUTER_SPECULATE": "on: a request's answer starts while the classifier decides it",
    "ROUTER_REQUEST_TIMEOUT_S": "220 s, inside the 230 s HTTP limit and the 5 min function timeout",
    "ROUTER_CONNECT_TIMEOUT_S": "5 s",
    "ROUTER_ATTEMPT_TIMEOUT_S": "unset: per tier, from its kind (20 s fast, 180 s reasoning)",
    "ROUTER_FIRST_TOKEN_TIMEOUT_S": "unset: per tier, from its kind (5 s fast, 120 s reasoning)",
    "ROUTER_STREAM_IDLE_TIMEOUT_S": "30 s",
    "ROUTER_STREAM_MAX_S": "the request budget (220 s) from a stream's headers; only idle "
    "connections are cut by Azure's front end",
    "ROUTER_MAX_ANSWER_BYTES": "unset: each tier's context window at 64 bytes a token",
    "ROUTER_MAX_ATTEMPTS": "3",
    "ROUTER_BACKOFF_BASE_S": "1 s: waits of 1, 2, 4 s",
    "ROUTER_BACKOFF_MAX_S": "8 s",
    "ROUTER_MAX_RETRY_WAIT_S": "10 s",
    "ROUTER_BREAKER_FAILURES": "5",
    "ROUTER_BREAKER_COOLDOWN_S": "30 s",
    "ROUTER_RESPONSES_MAX_CHAIN_BYTES": "ROUTER_MAX_BODY_BYTES: a chain is no way around it",
    "ROUTER_RESPONSES_INLINE_BYTES": "64 KiB: one blob per turn for short conversations",
    "ROUTER_REDIS_TIMEOUT_MS": "100 ms: Azure Managed Redis answers in the same region in ~1 ms",
    "ROUTER_RESPONSES_STORE_TIMEOUT_S": "5 s per storage call; Azure Storage answers in tens of ms",
}
# Local work only: keys and the per-model shortcut endpoints never reach Azure.
LOCAL_ONLY = {
    "FOUNDRY_API_KEY",
    "PHI4_MINI_ENDPOINT",
    "GPT5_NANO_ENDPOINT",
    "GPT5_ENDPOINT",
    "ROUTER_RESPONSES_CONNECTION_STRING",  # Azurite
}


class RecordingEnv(dict[str, str]):
    """An environment that remembers every name asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)


def test_every_setting_the_router_reads_is_set_by_bicep_or_has_a_fitting_default() -> None:
    contract = {s["name"] for s in json.loads(CONTRACT.read_text())["settings"]}
    env = RecordingEnv({"FOUNDRY_ENDPOINT": "https://a.openai.azure.com"})
    load_settings(env)
    unaccounted = env.asked - contract - set(DEFAULTS_FIT_AZURE) - LOCAL_ONLY
    assert not unaccounted, f"set these in main.bicep or justify their default: {unaccounted}"
    assert "ROUTER_TIERS" in env.asked  # the recorder sees the reads


def test_contract_names_only_settings_someone_reads() -> None:
    contract = {s["name"] for s in json.loads(CONTRACT.read_text())["settings"]}
    env = RecordingEnv({"FOUNDRY_ENDPOINT": "https://a.openai.azure.com"})
    load_settings(env)
    router_settings = {n for n in contract if n.startswith(("ROUTER_", "FOUNDRY_"))}
    assert router_settings <= env.asked
