"""The router's state from settings: per instance, or shared in Redis (ROUTER_REDIS_URL).

Redis and its client are imported only when a URL is set: without one nothing here costs a
cold start anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from shared.routing.cache import TtlCache
from shared.settings import Settings
from shared.state.link import RedisLink
from shared.state.memory import Memory, SharedMemory
from shared.upstream.health import Health, HealthBook

# Azure Managed Redis and Azure Cache for Redis take Entra tokens for this resource:
# https://learn.microsoft.com/azure/redis/entra-for-authentication
REDIS_SCOPE = "https://redis.azure.com"
# Connections per instance: its concurrent requests (32 per instance by default in Azure, each
# with one exchange at a time) and the background writes.
MAX_CONNECTIONS = 64


@dataclass
class RouterState:
    health: Health
    sessions: Memory
    verdicts: Memory
    link: RedisLink | None = None

    @property
    def mode(self) -> str:
        """For /api/health: "per-instance", or the link's state ("redis", "connecting", ...)."""
        return "per-instance" if self.link is None else self.link.state

    async def aclose(self) -> None:
        if self.link is not None:
            await self.link.aclose()


def make_state(settings: Settings, clock: Callable[[], float] = time.monotonic) -> RouterState:
    book = HealthBook(
        {tier.name: tier.tpm for tier in settings.tiers},
        settings.breaker,
        clock,
    )
    sessions: TtlCache[str] = TtlCache(settings.sessions.ttl_s, settings.sessions.max_sessions)
    verdicts: TtlCache[str] = TtlCache(
        settings.classifier.cache_ttl_s, settings.classifier.cache_size
    )
    if not settings.shared.redis_url:
        return RouterState(book, sessions, verdicts)
    from shared.state.health import SharedHealth  # late: only with Redis

    link = RedisLink(redis_client(settings, settings.shared.redis_url), settings.shared.timeout_s)
    # A probe that never comes back frees the breaker for another instance after its limit.
    leases = {tier.name: tier.attempt_limit_s for tier in settings.tiers}
    return RouterState(
        SharedHealth(link, book, leases, clock=clock),
        # A session on the large tier stays there (escalate-only): that value is final.
        SharedMemory(
            link,
            "session",
            sessions,
            final=lambda tier: tier == settings.routing.large_tier,
            sticky=settings.routing.large_tier,
        ),
        SharedMemory(link, "verdict", verdicts),
        link,
    )


def redis_client(settings: Settings, url: str) -> Any:
    """redis-py's asyncio client: no retries of its own (the link decides what a failure
    means), and in Azure (rediss:// without a password) the app's managed identity."""
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    options: dict[str, Any] = {
        "retry": Retry(NoBackoff(), 0),
        "socket_connect_timeout": 5.0,
        "socket_timeout": 5.0,
        "health_check_interval": 30,
    }
    parts = urlsplit(url)
    if parts.scheme == "rediss" and not parts.password:
        options["credential_provider"] = entra_credentials(settings.auth.managed_identity_client_id)
    # Busy, a request waits for a connection (within the link's bound) instead of failing.
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=None, **options
    )
    return aioredis.Redis(connection_pool=pool)


def entra_credentials(client_id: str | None) -> Any:
    """redis-entraid's provider: tokens for the user-assigned identity (AZURE_CLIENT_ID) or,
    without one, DefaultAzureCredential's (a developer's az login), renewed before they expire."""
    from redis_entraid.cred_provider import (
        create_from_default_azure_credential,
        create_from_managed_identity,
    )
    from redis_entraid.identity_provider import ManagedIdentityIdType, ManagedIdentityType

    if client_id:
        return create_from_managed_identity(
            identity_type=ManagedIdentityType.USER_ASSIGNED,
            resource=REDIS_SCOPE,
            id_type=ManagedIdentityIdType.CLIENT_ID,
            id_value=client_id,
        )
    return create_from_default_azure_credential((f"{REDIS_SCOPE}/.default",))
