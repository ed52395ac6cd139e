"""The managed-identity token endpoint (App Service protocol, api-version 2019-08-01).

azure-identity's ManagedIdentityCredential (and MSAL's) speak it when IDENTITY_ENDPOINT and
IDENTITY_HEADER are set: `GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=...
[&client_id=...|&object_id=...|&mi_res_id=...]` with header `X-IDENTITY-HEADER: <secret>`.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from typing import Any

API_VERSION = "2019-08-01"
SYSTEM_CLIENT_ID = "00000000-0000-0000-0000-00000000e4a1"
_ID_PARAMS = ("client_id", "object_id", "mi_res_id", "resource_id", "principal_id")


class TokenIssuer:
    """Issues opaque bearer tokens and checks them; tokens outlive `/control/reset` on purpose,
    so a router holding a cached token keeps working across tests."""

    def __init__(self, lifetime_s: float) -> None:
        self.lifetime_s = lifetime_s
        self.fetches = 0
        # The queries of recent fetches, so tests can see which identity was asked for.
        self.requests: deque[dict[str, str]] = deque(maxlen=100)
        self._expiry: dict[str, float] = {}

    def issue(self, resource: str, query: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        self.fetches += 1
        self.requests.append(dict(query))
        # Drop long-dead tokens so a refresh loop cannot grow the table forever.
        if len(self._expiry) > 10_000:
            self._expiry = {t: e for t, e in self._expiry.items() if e > now}
        token = "emu." + secrets.token_urlsafe(24)
        expires_at = now + self.lifetime_s
        self._expiry[token] = expires_at
        client_id = query.get("client_id") or SYSTEM_CLIENT_ID
        return {
            "access_token": token,
            # App Service sends epoch seconds as a string.
            "expires_on": str(int(expires_at)),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": client_id,
        }

    def is_valid(self, token: str) -> bool:
        expires_at = self._expiry.get(token)
        return expires_at is not None and expires_at > time.time()

    def revoke_all(self) -> None:
        self._expiry.clear()


def check_request(
    query: dict[str, str], header_secret: str | None, expected_secret: str
) -> tuple[int, str] | None:
    """An error (status, message) for a malformed token request, else None."""
    if header_secret != expected_secret:
        return 401, "Unauthorized: missing or invalid X-IDENTITY-HEADER"
    if query.get("api-version") != API_VERSION:
        return 400, f"Unsupported api-version; use {API_VERSION}"
    if not query.get("resource"):
        return 400, "Missing required query parameter: resource"
    if sum(1 for p in _ID_PARAMS if query.get(p)) > 1:
        return 400, "Specify at most one of client_id, object_id, mi_res_id"
    return None
