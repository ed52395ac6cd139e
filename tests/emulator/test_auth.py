"""Auth: API key, bearer tokens from the emulator's managed-identity endpoint, 401 and 403."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from azure.core.pipeline.transport import AsyncioRequestsTransport
from azure.identity import ManagedIdentityCredential as SyncManagedIdentityCredential
from azure.identity.aio import ManagedIdentityCredential

from tests.emulator.helpers import chat, settings

SCOPE = "https://cognitiveservices.azure.com/.default"
IDENTITY_HEADER = "emulator-identity-header"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def fetch_token(client: httpx.Client, **query: str) -> dict[str, str]:
    response = client.get(
        "/msi/token",
        params={
            "api-version": "2019-08-01",
            "resource": "https://cognitiveservices.azure.com",
            **query,
        },
        headers={"X-IDENTITY-HEADER": IDENTITY_HEADER},
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    "headers",
    [{}, {"api-key": "wrong"}, {"authorization": "Basic abc"}],
    ids=["none", "wrong-key", "not-bearer"],
)
def test_missing_or_wrong_key_is_401_in_azure_shape(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    response = chat(client, headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "401"
    assert error["message"].startswith("Access denied due to invalid subscription key")


def test_unknown_bearer_token_is_401(client: httpx.Client) -> None:
    response = chat(client, headers=bearer("made-up"))
    assert response.status_code == 401
    assert "Access token is missing, invalid" in response.json()["error"]["message"]


def test_key_as_bearer_only_on_the_v1_shape(client: httpx.Client) -> None:
    assert chat(client, headers=bearer("emulator-key")).status_code == 401
    response = client.post(
        "/openai/v1/chat/completions",
        json={"model": "Phi-4-mini", "messages": [{"role": "user", "content": "hi"}]},
        headers=bearer("emulator-key"),
    )
    assert response.status_code == 200


def test_token_endpoint_answers_in_app_service_shape(client: httpx.Client) -> None:
    before = time.time()
    token = fetch_token(client, client_id="my-client")
    assert token["token_type"] == "Bearer"
    assert token["resource"] == "https://cognitiveservices.azure.com"
    assert token["client_id"] == "my-client"
    assert isinstance(token["expires_on"], str)
    assert before + 3590 <= int(token["expires_on"]) <= time.time() + 3601
    assert chat(client, headers=bearer(token["access_token"])).status_code == 200
    assert client.get("/control/stats").json()["token_fetches"] == 1


@pytest.mark.parametrize(
    ("query", "headers", "status"),
    [
        ({"api-version": "2019-08-01", "resource": "r"}, {}, 401),
        ({"api-version": "2019-08-01", "resource": "r"}, {"X-IDENTITY-HEADER": "nope"}, 401),
        ({"resource": "r"}, {"X-IDENTITY-HEADER": IDENTITY_HEADER}, 400),
        ({"api-version": "2019-08-01"}, {"X-IDENTITY-HEADER": IDENTITY_HEADER}, 400),
    ],
    ids=["no-header", "wrong-header", "no-api-version", "no-resource"],
)
def test_token_endpoint_rejects_bad_requests(
    client: httpx.Client, query: dict[str, str], headers: dict[str, str], status: int
) -> None:
    response = client.get("/msi/token", params=query, headers=headers)
    assert response.status_code == status
    assert response.json()["statusCode"] == status
    assert client.get("/control/stats").json()["token_fetches"] == 0


def test_expired_token_is_401(client: httpx.Client) -> None:
    settings(client, token_lifetime_s=0.3)
    token = fetch_token(client)["access_token"]
    assert chat(client, headers=bearer(token)).status_code == 200
    time.sleep(0.4)
    assert chat(client, headers=bearer(token)).status_code == 401


def test_revoked_tokens_are_401(client: httpx.Client) -> None:
    token = fetch_token(client)["access_token"]
    settings(client, revoke_tokens=True)
    assert chat(client, headers=bearer(token)).status_code == 401


def test_forbidden_deployment_is_403_until_reset(client: httpx.Client) -> None:
    settings(client, deployments={"gpt-5": {"forbidden": True}})
    response = chat(client, "gpt-5")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "PermissionDenied"
    assert "lacks the required data action" in error["message"]
    assert chat(client, "Phi-4-mini").status_code == 200
    client.post("/control/reset")
    assert chat(client, "gpt-5").status_code == 200


async def test_real_managed_identity_credential(
    client: httpx.Client, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """azure-identity's async ManagedIdentityCredential, App Service flavour, end to end."""
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{base_url}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", IDENTITY_HEADER)
    monkeypatch.delenv("IDENTITY_SERVER_THUMBPRINT", raising=False)
    settings(client, token_lifetime_s=2)
    # aiohttp (azure-core's default async transport) is not installed; requests is.
    credential = ManagedIdentityCredential(
        client_id="router-client", transport=AsyncioRequestsTransport()
    )
    async with credential, httpx.AsyncClient(base_url=base_url) as http:
        token = await credential.get_token(SCOPE)
        assert token.expires_on <= time.time() + 3
        response = await http.post(
            "/openai/deployments/gpt-5/chat/completions",
            params={"api-version": "2024-10-21"},
            json={"messages": [{"role": "user", "content": "hi"}]},
            headers=bearer(token.token),
        )
        assert response.status_code == 200, response.text
        # Cached while valid, fetched again once it has expired.
        assert (await credential.get_token(SCOPE)).token == token.token
        await asyncio.sleep(2.1)
        refreshed = await credential.get_token(SCOPE)
        assert refreshed.token != token.token
        stats = (await http.get("/control/stats")).json()
        recorded = (await http.get("/control/requests")).json()["requests"]
    assert stats["token_fetches"] == 2
    assert stats["token_requests"][0] == {
        "api-version": "2019-08-01",
        "resource": "https://cognitiveservices.azure.com",
        "client_id": "router-client",
    }
    assert recorded[-1]["auth"] == "bearer"
    assert recorded[-1]["headers"]["authorization"] == "Bearer <redacted>"


def test_real_sync_credential_through_msal(
    client: httpx.Client, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sync credential goes through MSAL, which builds its own request and parses
    `expires_on` itself."""
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{base_url}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", IDENTITY_HEADER)
    monkeypatch.delenv("IDENTITY_SERVER_THUMBPRINT", raising=False)
    token = SyncManagedIdentityCredential().get_token(SCOPE)
    assert time.time() + 3500 < token.expires_on <= time.time() + 3600
    assert chat(client, headers=bearer(token.token)).status_code == 200
    assert client.get("/control/stats").json()["token_requests"] == [
        {"api-version": "2019-08-01", "resource": "https://cognitiveservices.azure.com"}
    ]
