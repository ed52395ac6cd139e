"""Chains of dependent calls from a public source the scorer never saw: NESTFUL.

    python -m bench.unseen_chains               # the shipped scorer, balanced preset
    python -m bench.unseen_chains --limit 10    # 10 rows per subset, printed only

NESTFUL's data ships inside the PyPI wheel nestful-wrapper, fetched with pip into --cache-dir
(or given with --wheel) and read as a zip, never installed (bench/routing/nestful.py, which
also says how the tools offered with each ask are chosen). Every row is a chain of dependent
calls, so the table reports complex recall only: `score_request` with the balanced bands,
abstentions settled three ways (all to large, the emulator's keyword classifier, all to small;
bench/routing/deciders.py), beside the share decided without the classifier. NESTFUL is not
training data: no weight, band or threshold was fitted or chosen on it.
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Sequence
from pathlib import Path

from bench.common.table import markdown
from bench.routing import nestful
from bench.routing.outcomes import by_scorer, line, subset
from bench.unseen_routing import RESULTS, fetch_wheel

DEFAULT_CACHE = Path.home() / ".cache" / "hybrid-router" / "nestful"
HEADER = [
    "subset, tools offered",
    "label",
    "n",
    "with tools",
    "complex recall: large / emulator / small",
    "decided locally",
]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wheel", type=Path, help=f"the {nestful.WHEEL} to read (default: fetch)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--limit", type=int, help="at most N rows per subset (printed only)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    wheel = args.wheel or fetch_wheel(
        args.cache_dir, nestful.PACKAGE, nestful.VERSION, nestful.WHEEL
    )
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    prompts = nestful.read_wheel(wheel, limit=args.limit)
    outcomes = by_scorer(prompts)
    sources = list(dict.fromkeys(p.source for p in prompts))
    rows = []
    for source in sources:
        name, label, n, tools, _simple, recall, _unlabelled, local = line(
            source, subset(outcomes, source=source)
        )
        rows.append([name, label, n, tools, recall, local])
    text = (
        f"# Chains from an unseen source: NESTFUL ({nestful.PACKAGE} {nestful.VERSION}, "
        "balanced preset)\n\n"
        "`python -m bench.unseen_chains`: every row of NESTFUL's executable and Glaive-derived "
        "subsets as an OpenAI chat request (the user's ask, the functions offered as tools), "
        "each read with its own functions, with those and others of the catalog up to "
        f"{nestful.OFFERED}, and with the whole catalog (bench/routing/nestful.py). Every row is "
        "a chain of dependent calls (complex). `score_request` and the balanced bands; "
        "abstentions settled all to large / by the emulator's keyword classifier / all to "
        "small. NESTFUL is not training data.\n\n"
        + markdown(HEADER, rows)
        + f"\n\nWheel {nestful.WHEEL}, sha256 {digest}.\n"
    )
    print(text)
    if args.limit is None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "unseen-chains.md").write_text(text)


if __name__ == "__main__":
    main()
