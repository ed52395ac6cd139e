"""Traffic track: where each labelled prompt went, and how that compares with its label."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Tier = Literal["small", "large"]


@dataclass(frozen=True, slots=True)
class Routed:
    """One prompt's outcome: its label, the tier it went to, and whether a model was asked."""

    source: str
    is_complex: bool
    tier: Tier
    local: bool  # decided by the local scorer, no classifier call
    tools: bool = False  # the request carries tools (agent turns)
    kind: str = ""  # what the next step must do (bench/routing/turns.py)


@dataclass(frozen=True, slots=True)
class TrafficSummary:
    n: int
    n_simple: int
    n_complex: int
    small_share: float  # of all prompts, sent to the small tier
    simple_to_small: float  # of simple prompts, sent to small (NaN without simple prompts)
    complex_recall: float  # of complex prompts, sent to large (NaN without complex prompts)
    complex_precision: float  # of prompts sent to large, complex (NaN if none went large)
    local_share: float  # of all prompts, decided with no model call


def _ratio(num: int, den: int) -> float:
    return num / den if den else float("nan")


def summarize(routed: Sequence[Routed]) -> TrafficSummary:
    n = len(routed)
    simple = [r for r in routed if not r.is_complex]
    complex_ = [r for r in routed if r.is_complex]
    large = [r for r in routed if r.tier == "large"]
    return TrafficSummary(
        n=n,
        n_simple=len(simple),
        n_complex=len(complex_),
        small_share=_ratio(sum(r.tier == "small" for r in routed), n),
        simple_to_small=_ratio(sum(r.tier == "small" for r in simple), len(simple)),
        complex_recall=_ratio(sum(r.tier == "large" for r in complex_), len(complex_)),
        complex_precision=_ratio(sum(r.is_complex for r in large), len(large)),
        local_share=_ratio(sum(r.local for r in routed), n),
    )


def by_source(routed: Sequence[Routed]) -> dict[str, TrafficSummary]:
    """A summary per source, then "all"."""
    sources = sorted({r.source for r in routed})
    out = {s: summarize([r for r in routed if r.source == s]) for s in sources}
    out["all"] = summarize(routed)
    return out


def by_source_and_tools(routed: Sequence[Routed]) -> dict[str, TrafficSummary]:
    """by_source, then by turn kind, then the requests with and without tools, then "all"."""
    out = by_source(routed)
    overall = out.pop("all")
    for kind in sorted({r.kind for r in routed if r.kind}):
        out[f"turn: {kind}"] = summarize([r for r in routed if r.kind == kind])
    for name, with_tools in (("with tools", True), ("without tools", False)):
        group = [r for r in routed if r.tools == with_tools]
        if group:
            out[name] = summarize(group)
    out["all"] = overall
    return out


def meets_bar(s: TrafficSummary) -> bool:
    """The traffic bar: recall >= 0.97, >= 90% of simple on small, >= 80% local."""
    return s.complex_recall >= 0.97 and s.simple_to_small >= 0.90 and s.local_share >= 0.80


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 100]."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 100)))
    return ordered[int(rank) - 1]
