"""Where each request of a sample goes, and the table of it: by the shipped scorer (its
abstentions settled three ways) or by a running router's `POST /api/route` (settled by whatever
classifier that router asks). Rows are labelled `simple` or `complex`, or unlabelled (read only
as the share sent small). Used for public sources the scorer never saw (bench/unseen_routing.py,
bench/unseen_chains.py) and for a sample of your own traffic (bench/route_sample.py)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from bench.common.table import percent
from bench.routing import traffic
from bench.routing.data import Prompt
from bench.routing.deciders import ABSTAIN_RULES, route
from bench.routing.traffic import Routed, Tier, TrafficSummary
from shared.routing.presets import DEFAULT_PRESET, thresholds_for
from shared.routing.scorer import score_request

SETTLEMENTS = ("to large", "emulator classifier", "to small")  # abstentions, scorer mode
UNLABELLED_KIND = "unlabelled"  # the kind of a row without a label
CONCURRENCY = 4  # requests at once through a running router
Outcomes = dict[str, list[Routed]]  # a settlement's name (or "router") -> every row's outcome


def routed(p: Prompt, tier: Tier, local: bool) -> Routed:
    """The outcome, with the row's label as its kind (simple, complex or unlabelled)."""
    return Routed(p.source, p.is_complex, tier, local, p.has_tools, p.label or UNLABELLED_KIND)


def by_scorer(prompts: Sequence[Prompt], preset: str = DEFAULT_PRESET) -> Outcomes:
    """The shipped scorer with `preset`'s bands; each way of settling its abstentions."""
    out: Outcomes = {name: [] for name in SETTLEMENTS}
    for p in prompts:
        score = score_request(p.messages, p.tools)
        bands = thresholds_for(preset, p.has_tools)
        for name in SETTLEMENTS:
            out[name].append(route(p, score, bands, ABSTAIN_RULES[name], routed))
    return out


def route_url(endpoint: str) -> str:
    """POST /api/route of the router at `endpoint` (its base URL, with or without /api)."""
    base = endpoint.rstrip("/")
    return f"{base}/route" if base.endswith("/api") else f"{base}/api/route"


def _body(p: Prompt) -> Mapping[str, Any] | None:
    return p.body


async def by_router(
    prompts: Sequence[Prompt],
    endpoint: str,
    concurrency: int = CONCURRENCY,
    key: str | None = None,
    body_of: Callable[[Prompt], Mapping[str, Any] | None] = _body,
) -> tuple[list[Routed], Counter[str]]:
    """Each request's decision by a running router (`model` set to `auto`; `body_of`: the body
    sent for a row, its `body` by default) and who made it (`decided_by`: scorer, classifier,
    cache, default; or the HTTP status of a refusal). `key`: the function key of a deployed
    router. The answer names the tier after eligibility (a small decision with tools is the
    small tier that takes tools), so any tier but the router's large tier counts as small."""
    headers = {"x-functions-key": key} if key else {}
    url = route_url(endpoint)
    gate = asyncio.Semaphore(concurrency)
    deciders: Counter[str] = Counter()

    async def one(client: httpx.AsyncClient, p: Prompt) -> Routed | None:
        async with gate:
            response = await client.post(url, json={**(body_of(p) or {}), "model": "auto"})
        if response.status_code != 200:
            deciders[f"HTTP {response.status_code}"] += 1
            return None
        decision = response.json()
        deciders[decision["decided_by"]] += 1
        tier: Tier = "large" if decision["tier"] == large_tier else "small"
        return routed(p, tier, decision["decided_by"] == "scorer")

    async with httpx.AsyncClient(headers=headers, timeout=60.0) as client:
        details = await client.get(url.removesuffix("/route") + "/health/details")
        large_tier = str(details.raise_for_status().json()["large_tier"])
        results = await asyncio.gather(*(one(client, p) for p in prompts))
    return [r for r in results if r is not None], deciders


def _cell(group: Outcomes, kind: str, metric: Callable[[TrafficSummary], float]) -> str:
    """The metric over the rows labelled `kind`, under each settlement: "a / b / c"."""
    return " / ".join(
        percent(metric(traffic.summarize([r for r in rs if r.kind == kind])))
        for rs in group.values()
    )


def line(name: str, group: Outcomes) -> list[object]:
    """One table row: each label's rows read by the metric that fits it (simple to small,
    complex recall, unlabelled to small), and the share decided locally."""
    first = next(iter(group.values()))
    labels = {r.kind for r in first}
    metrics: tuple[tuple[str, Callable[[TrafficSummary], float]], ...] = (
        ("simple", lambda s: s.simple_to_small),
        ("complex", lambda s: s.complex_recall),
        (UNLABELLED_KIND, lambda s: s.small_share),
    )
    cells = [_cell(group, kind, metric) if kind in labels else "-" for kind, metric in metrics]
    label = "/".join(sorted(labels))
    tools = sum(r.tools for r in first)
    local = percent(traffic.summarize(first).local_share)
    return [name, label, f"{len(first):,}", f"{tools:,}", *cells, local]


def subset(
    outcomes: Outcomes,
    source: str | None = None,
    kind: str | None = None,
    tools: bool = True,
) -> Outcomes:
    """Each settlement's outcomes of one category (`source`), or of one label's rows with
    tools (`kind`; without them: `tools=False`)."""
    return {
        name: [
            r
            for r in rs
            if (source is None or r.source == source)
            and (kind is None or (r.tools == tools and r.kind == kind))
        ]
        for name, rs in outcomes.items()
    }


def table(
    outcomes: Outcomes, categories: Sequence[str], without_tools: bool = False
) -> list[list[object]]:
    """A row per category, then the rows with tools of each label (and, `without_tools`, the
    rows without them); a group with no rows has no line."""
    groups = [(c, subset(outcomes, source=c)) for c in categories]
    for has_tools in (True, False) if without_tools else (True,):
        words = "with tools" if has_tools else "without tools"
        groups += [
            (f"**{k}, {words}**", subset(outcomes, kind=k, tools=has_tools))
            for k in ("simple", "complex", UNLABELLED_KIND)
        ]
    return [line(name, group) for name, group in groups if next(iter(group.values()))]


def header(settled: str) -> list[str]:
    """`settled`: how the cells' abstentions were settled, "" where the router decided."""
    return [
        "category",
        "label",
        "n",
        "with tools",
        f"simple to small{settled}",
        f"complex recall{settled}",
        f"unlabelled to small{settled}",
        "decided locally",
    ]
