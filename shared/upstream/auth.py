"""How the router proves itself to Foundry: an api-key header (local work) or an Entra token."""

from __future__ import annotations

from typing import Protocol

from shared.settings import Settings


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


def make_auth(settings: Settings) -> Auth:
    if settings.auth_mode == "key" and settings.api_key:
        return ApiKeyAuth(settings.api_key)
    raise NotImplementedError("Entra authentication is not wired yet")
