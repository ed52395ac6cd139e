"""Recorded requests and counters, so tests can assert exactly what was sent upstream."""

from __future__ import annotations

import time

import httpx

from tests.emulator.helpers import API_VERSION, KEY, chat


def test_requests_are_recorded_in_order_with_secrets_redacted(client: httpx.Client) -> None:
    before = time.time()
    chat(client, "gpt-5", "first", max_completion_tokens=20, headers={**KEY, "x-trace": "t1"})
    client.post(
        "/openai/v1/chat/completions",
        json={"model": "Phi-4-mini", "messages": [{"role": "user", "content": "second"}]},
        headers={"authorization": "Bearer not-a-token"},
    )
    chat(client, "gpt-5", max_tokens=5)
    first, second, third = client.get("/control/requests").json()["requests"]
    assert first["deployment"] == "gpt-5"
    assert first["path"] == "/openai/deployments/gpt-5/chat/completions"
    assert first["query"] == {"api-version": API_VERSION}
    assert first["body"] == {
        "messages": [{"role": "user", "content": "first"}],
        "max_completion_tokens": 20,
    }
    assert first["auth"] == "api-key"
    assert first["headers"]["api-key"] == "<redacted>"
    assert first["headers"]["x-trace"] == "t1"
    assert first["status"] == 200
    assert before <= first["started_at"] <= second["started_at"] <= third["started_at"]
    assert (second["deployment"], second["auth"], second["status"]) == ("Phi-4-mini", "bearer", 401)
    assert second["query"] == {}
    assert second["headers"]["authorization"] == "Bearer <redacted>"
    assert "not-a-token" not in str(second)
    assert third["status"] == 400


def test_filter_by_deployment_and_clear(client: httpx.Client) -> None:
    chat(client, "gpt-5")
    chat(client, "Phi-4")
    only = client.get("/control/requests", params={"deployment": "Phi-4"}).json()["requests"]
    assert [r["deployment"] for r in only] == ["Phi-4"]
    client.delete("/control/requests")
    assert client.get("/control/requests").json()["requests"] == []


def test_invalid_json_is_recorded_without_a_body(client: httpx.Client) -> None:
    client.post(
        "/openai/deployments/Phi-4/chat/completions",
        params={"api-version": API_VERSION},
        content=b"{oops",
        headers=KEY,
    )
    (record,) = client.get("/control/requests").json()["requests"]
    assert (record["body"], record["status"]) == (None, 400)


def test_stats_count_calls_statuses_and_tokens(client: httpx.Client) -> None:
    ok = chat(client, "Phi-4").json()
    chat(client, "Phi-4", headers={})
    stats = client.get("/control/stats").json()
    phi = stats["deployments"]["Phi-4"]
    assert phi["requests"] == 2
    assert phi["statuses"] == {"200": 1, "401": 1}
    assert phi["prompt_tokens"] == ok["usage"]["prompt_tokens"]
    assert phi["completion_tokens"] == ok["usage"]["completion_tokens"]
    assert stats["token_fetches"] == 0


def test_reset_clears_records_counters_and_settings(client: httpx.Client) -> None:
    chat(client)
    client.post("/control/settings", json={"speed": 3, "deployments": {"gpt-5": {"tpm": 10}}})
    client.post("/control/reset")
    assert client.get("/control/requests").json()["requests"] == []
    assert client.get("/control/stats").json()["deployments"] == {}
    current = client.get("/control/settings").json()
    assert current["speed"] == 0
    assert current["deployments"]["gpt-5"]["tpm"] == 1_000_000


def test_recording_can_be_switched_off(client: httpx.Client) -> None:
    client.post("/control/settings", json={"record_requests": False})
    chat(client)
    assert client.get("/control/requests").json()["requests"] == []


def test_settings_reject_unknown_fields(client: httpx.Client) -> None:
    assert client.post("/control/settings", json={"sped": 1}).status_code == 400
    response = client.post("/control/settings", json={"deployments": {"gpt-5": {"tmp": 1}}})
    assert response.status_code == 400
    assert client.post("/control/settings", json={"speed": -1}).status_code == 400


def test_settings_can_add_a_deployment(client: httpx.Client) -> None:
    client.post(
        "/control/settings",
        json={"deployments": {"o4-mini": {"model": "o4-mini", "reasoning": True}}},
    )
    response = chat(client, "o4-mini", max_tokens=5)
    assert response.json()["error"]["code"] == "unsupported_parameter"
    assert chat(client, "o4-mini").json()["model"] == "o4-mini"
