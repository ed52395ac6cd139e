"""Routing on a public source the scorer never saw: the Berkeley Function Calling Leaderboard.

    python -m bench.unseen_routing                     # the shipped scorer, balanced preset
    python -m bench.unseen_routing --limit 20          # 20 rows per category, printed only
    python -m bench.unseen_routing --mode router --endpoint http://127.0.0.1:7071/api

BFCL's data ships inside the PyPI wheel bfcl-eval; the wheel is fetched with pip into
--cache-dir (or given with --wheel) and read as a zip: bfcl-eval and its dependencies are never
installed. Every row's first turn becomes the OpenAI chat request a client sends, its functions
the request's tools (bench/routing/bfcl.py, which also says how each category is labelled):
simple = simple_python, simple_java, simple_javascript, multiple, live_simple, live_multiple
(one call from the offered functions); complex = parallel_multiple, live_parallel_multiple,
multi_turn_base (several different calls, or a multi-step task over a stateful API);
unlabelled, reported as the share sent small = parallel, live_parallel (one function several
times), irrelevance, live_irrelevance, live_relevance (whether any tool applies).

Mode `scorer`: shared.routing.scorer.score_request and the balanced preset's bands; abstentions
settled three ways (all to large, the emulator's keyword classifier, all to small:
bench/routing/deciders.py). Mode `router`: each request through a running router's
POST /api/route, so abstentions are settled by whatever classifier that router asks.
BFCL is not training data: no weight, band or threshold was fitted or chosen on it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from bench.common.table import markdown, percent
from bench.routing import bfcl, traffic
from bench.routing.data import Prompt
from bench.routing.deciders import ABSTAIN_RULES, route
from bench.routing.traffic import Routed, Tier, TrafficSummary
from shared.routing.presets import DEFAULT_PRESET, thresholds_for
from shared.routing.scorer import score_request

DEFAULT_CACHE = Path.home() / ".cache" / "hybrid-router" / "bfcl"
RESULTS = Path(__file__).parent / "routing" / "results"
SETTLEMENTS = ("to large", "emulator classifier", "to small")  # abstentions, scorer mode
UNLABELLED_KIND = "unlabelled"  # the kind of a row of a category bfcl.UNLABELLED lists


def fetch_wheel(
    cache: Path, package: str = bfcl.PACKAGE, version: str = bfcl.VERSION, name: str = bfcl.WHEEL
) -> Path:
    """A pinned wheel in `cache` (bfcl-eval's by default), downloaded with pip the first time."""
    wheel = cache / name
    if not wheel.exists():
        cache.mkdir(parents=True, exist_ok=True)
        pip = [sys.executable, "-m", "pip", "download", f"{package}=={version}"]
        pip += ["--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "-d", str(cache)]
        subprocess.run(pip, check=True)
    return wheel


def routed(p: Prompt, tier: Tier, local: bool) -> Routed:
    """The outcome, with the row's label as its kind (simple, complex or unlabelled)."""
    return Routed(p.source, p.is_complex, tier, local, p.has_tools, p.label or UNLABELLED_KIND)


def by_scorer(prompts: Sequence[Prompt]) -> dict[str, list[Routed]]:
    """The shipped scorer with the balanced bands; each way of settling its abstentions."""
    out: dict[str, list[Routed]] = {name: [] for name in SETTLEMENTS}
    for p in prompts:
        score = score_request(p.messages, p.tools)
        bands = thresholds_for(DEFAULT_PRESET, p.has_tools)
        for name in SETTLEMENTS:
            out[name].append(route(p, score, bands, ABSTAIN_RULES[name], routed))
    return out


def route_url(endpoint: str) -> str:
    """POST /api/route of the router at `endpoint` (its base URL, with or without /api)."""
    base = endpoint.rstrip("/")
    return f"{base}/route" if base.endswith("/api") else f"{base}/api/route"


async def by_router(
    prompts: Sequence[Prompt], endpoint: str, concurrency: int
) -> tuple[list[Routed], Counter[str]]:
    """Each request's decision by a running router and who made it (`decided_by`: scorer,
    classifier, cache, default; or the HTTP status of a refusal). The answer names the tier
    after eligibility (a small decision with tools is the small tier that takes tools), so any
    tier but the router's large tier counts as small."""
    key = os.environ.get("LOCAL_FUNCTION_KEY")
    headers = {"x-functions-key": key} if key else {}
    url = route_url(endpoint)
    gate = asyncio.Semaphore(concurrency)
    deciders: Counter[str] = Counter()

    async def one(client: httpx.AsyncClient, p: Prompt) -> Routed | None:
        async with gate:
            response = await client.post(url, json={"model": "auto", **(p.body or {})})
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


def _cell(group: dict[str, list[Routed]], metric: Callable[[TrafficSummary], float]) -> str:
    """The metric under each settlement of the abstentions, "a / b / c"."""
    return " / ".join(percent(metric(traffic.summarize(rs))) for rs in group.values())


def line(name: str, group: dict[str, list[Routed]]) -> list[object]:
    """One table row: the metric that fits the rows' label, and the share decided locally."""
    first = next(iter(group.values()))
    labels = {r.kind for r in first}
    cells = ["-", "-", "-"]
    if "simple" in labels:
        cells[0] = _cell(group, lambda s: s.simple_to_small)
    if "complex" in labels:
        cells[1] = _cell(group, lambda s: s.complex_recall)
    if UNLABELLED_KIND in labels:
        cells[2] = _cell(group, lambda s: s.small_share)
    label = "/".join(sorted(labels))
    tools = sum(r.tools for r in first)
    local = percent(traffic.summarize(first).local_share)
    return [name, label, f"{len(first):,}", f"{tools:,}", *cells, local]


def subset(
    outcomes: dict[str, list[Routed]], source: str | None = None, kind: str | None = None
) -> dict[str, list[Routed]]:
    """Each settlement's outcomes of one category (`source`), or of one label's rows with
    tools (`kind`)."""
    return {
        name: [
            r
            for r in rs
            if (source is None or r.source == source)
            and (kind is None or (r.tools and r.kind == kind))
        ]
        for name, rs in outcomes.items()
    }


def table(outcomes: dict[str, list[Routed]], categories: Sequence[str]) -> list[list[object]]:
    """A row per category, then the rows with tools of each label."""
    groups = [(c, subset(outcomes, source=c)) for c in categories]
    groups += [
        (f"**{k}, with tools**", subset(outcomes, kind=k))
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


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("scorer", "router"), default="scorer")
    parser.add_argument("--endpoint", help="router mode: the router's base URL (.../api)")
    parser.add_argument("--wheel", type=Path, help=f"the {bfcl.WHEEL} to read (default: fetch)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--limit", type=int, help="at most N rows per category (printed only)")
    parser.add_argument("--concurrency", type=int, default=4, help="router mode: requests at once")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.mode == "router" and not args.endpoint:
        parser.error("--mode router needs --endpoint")

    wheel = args.wheel or fetch_wheel(args.cache_dir)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    prompts, skipped = bfcl.read_wheel(wheel, limit=args.limit)
    if args.mode == "scorer":
        outcomes = by_scorer(prompts)
        settled = ": large / emulator / small"
        how = (
            "`score_request` and the balanced bands (`thresholds_for('balanced', bool(tools))`); "
            "abstentions settled three ways: all to large, the emulator's keyword classifier "
            "(bench/routing/deciders.py), all to small."
        )
        deciders = ""
    else:
        decisions, counts = asyncio.run(by_router(prompts, args.endpoint, args.concurrency))
        outcomes = {"router": decisions}
        settled = ""
        how = f"each request through `POST /api/route` of the router at {args.endpoint}."
        deciders = "\n\nDecided by: " + ", ".join(f"{k} {v:,}" for k, v in counts.most_common())
    command = "python -m bench.unseen_routing" + ("" if args.mode == "scorer" else " --mode router")
    note = ", ".join(f"{c} {n}" for c, n in skipped.items() if n)
    text = (
        f"# An unseen source: BFCL ({bfcl.PACKAGE} {bfcl.VERSION}, balanced preset)\n\n"
        f"`{command}`: the first turn of every BFCL row as an OpenAI chat request with its "
        f"functions as tools; {how}\n"
        "Labels: simple = " + ", ".join(bfcl.SIMPLE) + " (one call from the offered functions); "
        "complex = " + ", ".join(bfcl.COMPLEX) + " (several different calls, or a multi-step "
        "task over a stateful API); unlabelled, only the share sent small = "
        + ", ".join(bfcl.UNLABELLED)
        + ". BFCL is not training data: no weight, band or threshold was fitted on it.\n\n"
        + markdown(header(settled), table(outcomes, bfcl.CATEGORIES))
        + deciders
        + (f"\n\nSkipped (not a plain first turn): {note}." if note else "")
        + f"\n\nWheel {bfcl.WHEEL}, sha256 {digest}.\n"
    )
    print(text)
    if args.limit is None:
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / ("unseen.md" if args.mode == "scorer" else "unseen-router.md")
        path.write_text(text)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
