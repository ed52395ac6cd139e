"""Switchable faults, per deployment, stacked in order and consumed as requests arrive.

On each model request the first fault (in insertion order) that matches the deployment and
applies to the request claims it and loses one of its `times` (null: never runs out).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

ANY_DEPLOYMENT = "*"
FLAP_STATUSES = (429, 500, 502, 503, 504)

# kind -> {param: default}; a default of ... means required.
PARAMS: dict[str, dict[str, Any]] = {
    "rate_limit": {"retry_after_s": 1, "retry_after_ms": None},
    "server_error": {"status": 500, "retry_after_s": None},
    "unavailable": {"retry_after_s": None},
    "reset": {},
    "no_response": {"max_s": 300},
    "slow_first_token": {"delay_ms": 1000},
    "stream_cut": {"after_chunks": 2},
    "stream_stall": {"after_chunks": 2, "max_s": 300},
    "malformed_chunk": {"after_chunks": 2},
    "no_done": {},
    "context_length_exceeded": {},
    "content_filter": {"category": "hate", "severity": "high"},
    "reject_param": {"param": ...},
    "flapping": {"pattern": None, "fail_every": None, "status": 500, "retry_after_s": None},
    "classify_answer": {"text": ...},
    # A 200 that is not a chat completion, as a proxy or gateway in the path may answer.
    "proxy_page": {"body": "html"},
    # A whole, valid JSON answer whose body arrives in pieces spread over `over_s`.
    "trickle": {"over_s": 30},
    # A valid JSON answer whose text is `bytes` long, sent in pieces with no content-length.
    "huge_answer": {"bytes": 100 * 1024 * 1024},
    # A stream that, after `after_chunks`, sends a content delta every `every_s` and never ends.
    "endless_stream": {"after_chunks": 2, "every_s": 0.1, "max_s": 300},
    # A 200 whose agent turn is wrong the way a small model's can be (broken.py).
    "broken_answer": {"breakage": ...},
}
PROXY_BODIES = ("html", "text", "json_without_choices")
BREAKAGES = ("unknown_function", "unparseable_arguments", "schema_violation", "empty")
KINDS = tuple(PARAMS)
STREAM_ONLY = frozenset(
    {"stream_cut", "stream_stall", "malformed_chunk", "no_done", "endless_stream"}
)
JSON_ONLY = frozenset({"trickle", "huge_answer"})
# Faults that change how a normal answer is delivered, rather than replacing it.
SHAPING = STREAM_ONLY | JSON_ONLY | {"slow_first_token", "classify_answer", "broken_answer"}

_ids = itertools.count(1)


@dataclass
class Fault:
    kind: str
    deployment: str = ANY_DEPLOYMENT
    times: int | None = 1
    params: dict[str, Any] = field(default_factory=dict)
    id: int = field(default_factory=lambda: next(_ids))
    hits: int = 0
    # flapping only: the expanded cycle of "fail"/"ok".
    cycle: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "deployment": self.deployment,
            "kind": self.kind,
            "times": self.times,
            "hits": self.hits,
            **self.params,
        }


@dataclass(frozen=True)
class RequestTraits:
    """What faults need to know to decide whether they apply."""

    stream: bool
    classification: bool
    params: frozenset[str]


def _number(params: dict[str, Any], name: str, minimum: float = 0) -> None:
    value = params.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ValueError(f"{name} must be a number >= {minimum}")


def parse_fault(spec: dict[str, Any], deployments: set[str]) -> Fault:
    """Validate a `/control/faults` body into a Fault; raises ValueError with the reason."""
    if not isinstance(spec, dict):
        raise ValueError("body must be a JSON object")
    kind = spec.get("kind")
    if kind not in PARAMS:
        raise ValueError(f"kind must be one of {list(KINDS)}")
    deployment = spec.get("deployment") or ANY_DEPLOYMENT
    if deployment != ANY_DEPLOYMENT and deployment not in deployments:
        raise ValueError(f"unknown deployment {deployment!r}")
    times = spec.get("times", 1)
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise ValueError("times must be an integer >= 1, or null for always")
    defaults = PARAMS[kind]
    given = {k: v for k, v in spec.items() if k not in ("kind", "deployment", "times")}
    unknown = set(given) - set(defaults)
    if unknown:
        raise ValueError(f"unknown parameter(s) for {kind}: {sorted(unknown)}")
    params = {**defaults, **given}
    missing = [k for k, v in params.items() if v is ...]
    if missing:
        raise ValueError(f"{kind} needs {missing}")
    for name in ("retry_after_s", "retry_after_ms", "max_s", "delay_ms", "over_s", "bytes"):
        _number(params, name)
    if "every_s" in params:
        _number(params, "every_s", 0.001)
    if "after_chunks" in params:
        value = params["after_chunks"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError("after_chunks must be an integer >= 0")
    for name in ("param", "text", "category", "severity"):
        if name in params and not isinstance(params[name], str):
            raise ValueError(f"{name} must be a string")
    if kind == "broken_answer" and params["breakage"] not in BREAKAGES:
        raise ValueError(f"broken_answer breakage must be one of {list(BREAKAGES)}")
    if kind == "proxy_page" and params["body"] not in PROXY_BODIES:
        raise ValueError(f"proxy_page body must be one of {list(PROXY_BODIES)}")
    fault = Fault(kind=kind, deployment=deployment, times=times, params=params)
    if kind == "server_error" and params["status"] not in (500, 502, 504):
        raise ValueError("server_error status must be 500, 502 or 504")
    if kind == "flapping":
        fault.cycle = _flap_cycle(params)
    return fault


def _flap_cycle(params: dict[str, Any]) -> tuple[str, ...]:
    if params["status"] not in FLAP_STATUSES:
        raise ValueError(f"flapping status must be one of {list(FLAP_STATUSES)}")
    pattern, every = params["pattern"], params["fail_every"]
    if (pattern is None) == (every is None):
        raise ValueError("flapping needs exactly one of pattern or fail_every")
    if every is not None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError("fail_every must be an integer >= 1")
        # fail_every N: the first request fails, then N-1 succeed, repeating.
        return ("fail",) + ("ok",) * (every - 1)
    items = pattern.split(",") if isinstance(pattern, str) else pattern
    if not isinstance(items, list) or not items:
        raise ValueError('pattern must be like "fail,ok" or ["fail", "ok"]')
    cycle = tuple(str(i).strip().lower() for i in items)
    if any(i not in ("fail", "ok") for i in cycle):
        raise ValueError("pattern entries must be fail or ok")
    return cycle


def _applies(fault: Fault, traits: RequestTraits) -> bool:
    kind = fault.kind
    if kind in STREAM_ONLY:
        return traits.stream
    if kind in JSON_ONLY:
        return not traits.stream
    if kind == "classify_answer":
        return traits.classification
    if kind == "reject_param":
        return fault.params["param"] in traits.params
    return True


class FaultBook:
    """The active faults, in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def __bool__(self) -> bool:
        return bool(self._faults)

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self, deployment: str | None = None) -> int:
        before = len(self._faults)
        if deployment is None:
            self._faults.clear()
        else:
            self._faults = [f for f in self._faults if f.deployment != deployment]
        return before - len(self._faults)

    def remove(self, fault_id: int) -> bool:
        before = len(self._faults)
        self._faults = [f for f in self._faults if f.id != fault_id]
        return len(self._faults) != before

    def list(self) -> list[dict[str, Any]]:
        return [f.to_dict() for f in self._faults]

    def take(self, deployment: str, traits: RequestTraits) -> tuple[Fault, bool] | None:
        """Claim the first applicable fault: (fault, fails). `fails` is False only for a
        flapping fault on one of its "ok" turns."""
        for fault in self._faults:
            if fault.deployment not in (ANY_DEPLOYMENT, deployment) or not _applies(fault, traits):
                continue
            fails = True
            if fault.cycle:
                fails = fault.cycle[fault.hits % len(fault.cycle)] == "fail"
            fault.hits += 1
            if fault.times is not None and fault.hits >= fault.times:
                self._faults.remove(fault)
            return fault, fails
        return None
