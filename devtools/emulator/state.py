"""The emulator's mutable state: settings, quotas, faults, tokens, records, counters, and the
responses its Responses API stored."""

from __future__ import annotations

from collections import OrderedDict, defaultdict, deque
from typing import Any

from devtools.emulator.config import EmulatorConfig, apply_overrides
from devtools.emulator.faults import FaultBook
from devtools.emulator.identity import TokenIssuer
from devtools.emulator.quota import SlidingWindowQuota


class DeploymentStats:
    __slots__ = ("completion_tokens", "faults", "prompt_tokens", "requests", "statuses")

    def __init__(self) -> None:
        self.requests = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.faults = 0
        self.statuses: dict[str, int] = defaultdict(int)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "statuses": dict(self.statuses),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "faults": self.faults,
        }


class StoredResponse:
    """A response the emulator's /openai/v1/responses keeps (store: true), as Azure does."""

    __slots__ = ("context", "response")

    def __init__(self, response: dict[str, Any], context: list[dict[str, Any]]) -> None:
        self.response = response
        self.context = context  # every item of the conversation so far, for the next turn


class EmulatorState:
    """Owned by one app; every handler runs on one event loop, so no locks are needed."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.initial = config
        self.config = config
        self.faults = FaultBook()
        self.tokens = TokenIssuer(config.token_lifetime_s)
        self.quotas: dict[str, SlidingWindowQuota] = {}
        self.records: deque[dict[str, Any]] = deque(maxlen=config.max_recorded)
        self.stats: dict[str, DeploymentStats] = defaultdict(DeploymentStats)
        self.responses: OrderedDict[str, StoredResponse] = OrderedDict()
        self._build_quotas()

    def _build_quotas(self) -> None:
        window = self.config.quota_window_s
        self.quotas = {
            name: SlidingWindowQuota(d.tpm, d.effective_rpm, window)
            for name, d in self.config.deployments.items()
        }

    def reset(self) -> None:
        """Back to the start-up config with no faults, usage, records, counters or stored
        responses. Issued tokens stay valid (see TokenIssuer)."""
        self.config = self.initial
        self.faults.clear()
        self.tokens.lifetime_s = self.config.token_lifetime_s
        self.tokens.fetches = 0
        self.tokens.requests.clear()
        self.records = deque(maxlen=self.config.max_recorded)
        self.stats.clear()
        self.responses.clear()
        self._build_quotas()

    def update(self, overrides: dict[str, Any]) -> None:
        """Apply `/control/settings`; quota usage so far is kept, limits change at once."""
        revoke = overrides.pop("revoke_tokens", False)
        new = apply_overrides(self.config, overrides)
        old_quotas = self.quotas
        self.config = new
        self.tokens.lifetime_s = new.token_lifetime_s
        if self.records.maxlen != new.max_recorded:
            self.records = deque(self.records, maxlen=new.max_recorded)
        self.quotas = {}
        for name, d in new.deployments.items():
            quota = old_quotas.get(name) or SlidingWindowQuota(d.tpm, d.effective_rpm)
            quota.tpm, quota.rpm, quota.window_s = d.tpm, d.effective_rpm, new.quota_window_s
            self.quotas[name] = quota
        if revoke:
            self.tokens.revoke_all()
