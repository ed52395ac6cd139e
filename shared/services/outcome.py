"""What a service hands back to be rendered: an answer or an event stream, who answered and
why; and errors that say why their tier was chosen, as an answer does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from shared.api import ApiError
from shared.routing.policy import Decision
from shared.settings import Tier


@dataclass(frozen=True, slots=True)
class Outcome:
    decision: Decision
    tier: Tier  # who answered
    changes: tuple[str, ...]  # shaping, dropped parameters, failover: for x-router-adjusted
    body: dict[str, Any] | None = None  # a JSON answer
    events: AsyncIterator[bytes] | None = None  # or the caller's event stream
    cost: float = 0.0  # a JSON answer's list-price cost (a stream's is in its usage event)
    headers: Mapping[str, str] = field(default_factory=dict)  # more to say, e.g. not stored


@contextmanager
def carrying(decision: Decision) -> Iterator[None]:
    """An error raised inside says why the request's tier was chosen (its x-router-* headers)."""
    try:
        yield
    except ApiError as error:
        error.decision = error.decision or decision
        raise
