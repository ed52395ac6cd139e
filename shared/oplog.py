"""Operator logs: one structured record per event an operator acts on, through Python logging.

Events: an exception nothing expected, a failover, a wait for a 429 or a cooldown, a breaker
opening, half-opening or closing, a token budget or the request's time budget running out,
Foundry refusing our credential, the shared state in Redis becoming unavailable or coming back,
and the guard sending a small tier's broken agent turn one tier up.
Each record has a readable message (`event key=value ...`, for a console or the Functions host's
log stream) and the same fields as attributes under `router.*` (`extra=`), which the
Azure Monitor OpenTelemetry log exporter turns into customDimensions of a trace. Fields are
tier and deployment names, numbers and error codes: never prompt text, never a credential.

Under Functions the worker's handler on the root logger forwards records to the host ("Access
to the Azure Functions runtime logger is available via a root logging handler ... tied to
Application Insights"; the runtime's logs "end up as traces in Application Insights":
https://learn.microsoft.com/azure/azure-functions/functions-reference-python#logging), which
keeps category "Function" from Information up (host.json). Outside Functions, the Azure
Monitor set-up (shared/telemetry/setup.py) exports the `hybrid_router` logger's records, and
`to_console()` prints them to stderr.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from typing import Literal

log = logging.getLogger("hybrid_router.ops")
log.setLevel(logging.INFO)  # records are made even where the root logger says WARNING

BreakerState = Literal["open", "half-open", "closed"]
SharedState = Literal["connected", "unavailable", "restored"]
Field = str | int | float | None


def _emit(level: int, event: str, *, below: str = "", **fields: Field) -> None:
    """`below`: lines printed under the `event key=value` line (a traceback's frames)."""
    if not log.isEnabledFor(level):
        return
    text = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
    extra = {f"router.{k}": v for k, v in fields.items() if v is not None}
    trailer = f"\n{below}" if below else ""
    log.log(level, "%s %s%s", event, text, trailer, extra={"router.event": event, **extra})


def unhandled_error(where: str, exc: BaseException) -> None:
    """An exception nothing expected, by its type and the frames it was raised through (and
    those of what caused it), without its message: a message may quote the caller's text (a
    ValueError about a field's value), and operators need where it broke, not what was asked."""
    name = type(exc).__qualname__
    frames = frames_without_messages(exc)
    _emit(logging.ERROR, "unhandled_error", below=frames, where=where, exception=name)


def frames_without_messages(exc: BaseException) -> str:
    """A traceback as Python prints it (causes first), each exception named by its type alone."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        cause = current.__cause__
        current = cause if cause or current.__suppress_context__ else current.__context__
    parts = [
        "Traceback (most recent call last):\n"
        + "".join(traceback.format_tb(e.__traceback__))
        + f"{type(e).__module__}.{type(e).__qualname__}"
        for e in reversed(chain)
    ]
    return "\n\nThe above led to:\n\n".join(parts)


def failover(from_tier: str, to_tier: str, reason: str) -> None:
    """The request moves down the chain; `reason` is the error code (or status) that moved it."""
    _emit(logging.WARNING, "failover", from_tier=from_tier, to_tier=to_tier, reason=reason)


def retry_wait(tier: str, wait_s: float, reason: str, attempt: int) -> None:
    """A wait before another try on the same deployment (a 429's Retry-After or a backoff)."""
    _emit(
        logging.INFO,
        "retry_wait",
        tier=tier,
        wait_s=round(wait_s, 3),
        reason=reason,
        next_attempt=attempt,
    )


def cooldown_wait(wait_s: float, reasons: str) -> None:
    """Every deployment is briefly held back; the request waits rather than answer 429."""
    _emit(logging.INFO, "cooldown_wait", wait_s=round(wait_s, 3), reasons=reasons)


def breaker(tier: str, state: BreakerState, cooldown_s: float | None = None) -> None:
    level = logging.WARNING if state == "open" else logging.INFO
    _emit(level, "breaker", tier=tier, state=state, cooldown_s=cooldown_s)


def token_budget_exhausted(tier: str, wait_s: float, needed: int) -> None:
    """A tier is skipped: its tokens-per-minute budget can't take this request now."""
    _emit(
        logging.WARNING,
        "token_budget_exhausted",
        tier=tier,
        wait_s=round(wait_s, 3),
        tokens_needed=needed,
    )


def request_budget_exhausted(tier: str, status: int, code: str | None) -> None:
    """The request's time budget ran out before any deployment answered."""
    _emit(logging.WARNING, "request_budget_exhausted", last_tier=tier, status=status, code=code)


def guard_escalation(from_tier: str, to_tier: str, failure: str) -> None:
    """A small tier's agent turn failed the guard (shared/guard.py): asked again one tier up."""
    _emit(
        logging.WARNING, "guard_escalation", from_tier=from_tier, to_tier=to_tier, failure=failure
    )


def upstream_auth_failed(tier: str, deployment: str, status: int | None) -> None:
    _emit(logging.ERROR, "upstream_auth_failed", tier=tier, deployment=deployment, status=status)


def shared_state(
    state: SharedState, reason: str | None = None, per_instance_s: float | None = None
) -> None:
    """Redis answered for the first time, stopped answering (the router goes on with
    per-instance state; `reason` is the error's class name), or answers again."""
    level = logging.WARNING if state == "unavailable" else logging.INFO
    _emit(level, "shared_state", state=state, reason=reason, per_instance_s=per_instance_s)


def to_console() -> None:
    """Outside Functions, print the router's records to stderr (once; never under Functions,
    whose worker has its own handler)."""
    router = logging.getLogger("hybrid_router")
    if os.environ.get("FUNCTIONS_WORKER_RUNTIME") or router.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    router.addHandler(handler)
    router.setLevel(logging.INFO)
    router.propagate = False
