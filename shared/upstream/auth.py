"""How the router proves itself to Foundry: an api-key header (local work) or an Entra token."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from shared.api import ApiError
from shared.settings import AuthSettings

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken
    from azure.core.credentials_async import AsyncTokenCredential

log = logging.getLogger("hybrid_router.auth")

# Refresh this long before expiry, in the background, so no request waits on a fetch.
REFRESH_MARGIN_S = 300.0
# Below this much life left a token is not used at all; requests wait for the new one.
MIN_LIFE_S = 10.0
# azure-identity hands back its cached token within 30 s of its last fetch (and so do we).
RETRY_DELAY_S = 30.0


class Auth(Protocol):
    async def headers(self) -> dict[str, str]: ...

    async def aclose(self) -> None: ...


class ApiKeyAuth:
    def __init__(self, key: str) -> None:
        self._headers = {"api-key": key}

    async def headers(self) -> dict[str, str]:
        return self._headers

    async def aclose(self) -> None:
        return None


class EntraAuth:
    """Bearer tokens from one azure-identity credential: cached, refreshed early, single-flight."""

    def __init__(self, make_credential: Callable[[], AsyncTokenCredential], scope: str) -> None:
        self.make_credential = make_credential
        self.credential: AsyncTokenCredential | None = None  # created on first use, on the loop
        self.scope = scope
        self._token: AccessToken | None = None
        self._headers: dict[str, str] = {}
        self._refresh: asyncio.Task[None] | None = None
        self._refresh_at = 0.0

    async def headers(self) -> dict[str, str]:
        now = time.time()
        left = (self._token.expires_on - now) if self._token else 0.0
        if left > MIN_LIFE_S:
            if now >= self._refresh_at:
                self._start_refresh()  # early, in the background; this request goes on
            return self._headers
        try:
            await asyncio.shield(self._start_refresh())
        except Exception as exc:
            raise ApiError(
                502,
                "The router could not get an Entra token for the model deployment "
                f"({type(exc).__name__}). Check its managed identity or AZURE_CLIENT_ID.",
                type="api_error",
                code="upstream_auth_failed",
            ) from None
        return self._headers

    def _start_refresh(self) -> asyncio.Task[None]:
        # One fetch at a time however many requests arrive: they all share this task.
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.create_task(self._fetch())
            self._refresh.add_done_callback(_log_failure)
        return self._refresh

    async def _fetch(self) -> None:
        if self.credential is None:
            self.credential = self.make_credential()
        token = await self.credential.get_token(self.scope)
        self._token = token
        self._headers = {"authorization": f"Bearer {token.token}"}
        # The credential may hand back the same token until its own refresh time: don't ask
        # again on every request meanwhile.
        self._refresh_at = max(token.expires_on - REFRESH_MARGIN_S, time.time() + RETRY_DELAY_S)

    async def aclose(self) -> None:
        if self._refresh is not None and not self._refresh.done():
            self._refresh.cancel()
        if self.credential is not None:
            await self.credential.close()


def _log_failure(task: asyncio.Task[None]) -> None:
    # Retrieve the exception so a failed background refresh is logged, not "never retrieved".
    if not task.cancelled() and task.exception() is not None:
        log.warning("token refresh failed: %s", type(task.exception()).__name__)


def make_credential(auth: AuthSettings) -> AsyncTokenCredential:
    # Imported here: azure-identity is slow to import and key mode never needs it.
    from azure.identity.aio import DefaultAzureCredential, ManagedIdentityCredential

    if auth.managed_identity_client_id:
        return ManagedIdentityCredential(client_id=auth.managed_identity_client_id)
    return DefaultAzureCredential()


def make_auth(auth: AuthSettings) -> Auth:
    if auth.mode == "key" and auth.api_key:
        return ApiKeyAuth(auth.api_key)
    return EntraAuth(lambda: make_credential(auth), auth.token_scope)
