"""Routing on a public source the scorer never saw: the Berkeley Function Calling Leaderboard.

    python -m bench.unseen_routing                     # the shipped scorer, balanced preset
    python -m bench.unseen_routing --limit 20          # 20 rows per category, printed only
    python -m bench.unseen_routing --names plugin      # functions named as plugins' (below)
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

`--names plugin` names every function as Semantic Kernel's OpenAI connector names a plugin's
function, `Plugin-function` (BFCL's module is the plugin: `math.gcd` as `math-gcd`), instead of
BFCL's own `math_gcd`: the same asks and functions, so the figures should not move.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.common.table import markdown
from bench.routing import bfcl
from bench.routing.outcomes import CONCURRENCY, by_router, by_scorer, header, table

DEFAULT_CACHE = Path.home() / ".cache" / "hybrid-router" / "bfcl"
RESULTS = Path(__file__).parent / "routing" / "results"
NAMED_AS_PLUGINS = (
    ", each named as Semantic Kernel's OpenAI connector names a plugin's function "
    f"(`Plugin-function`: `math.gcd` as `math-gcd`, a function without a module in {bfcl.PLUGIN})"
)


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


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("scorer", "router"), default="scorer")
    parser.add_argument("--endpoint", help="router mode: the router's base URL (.../api)")
    parser.add_argument("--wheel", type=Path, help=f"the {bfcl.WHEEL} to read (default: fetch)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--limit", type=int, help="at most N rows per category (printed only)")
    parser.add_argument(
        "--concurrency", type=int, default=CONCURRENCY, help="router mode: requests at once"
    )
    parser.add_argument(
        "--names",
        choices=("plain", "plugin"),
        default="plain",
        help="the functions' names as BFCL sends them, or as a plugin's (`math-gcd`)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.mode == "router" and not args.endpoint:
        parser.error("--mode router needs --endpoint")

    wheel = args.wheel or fetch_wheel(args.cache_dir)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    plugins = args.names == "plugin"
    prompts, skipped = bfcl.read_wheel(wheel, limit=args.limit, plugins=plugins)
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
        key = os.environ.get("LOCAL_FUNCTION_KEY")
        decisions, counts = asyncio.run(by_router(prompts, args.endpoint, args.concurrency, key))
        outcomes = {"router": decisions}
        settled = ""
        how = f"each request through `POST /api/route` of the router at {args.endpoint}."
        deciders = "\n\nDecided by: " + ", ".join(f"{k} {v:,}" for k, v in counts.most_common())
    command = "python -m bench.unseen_routing" + ("" if args.mode == "scorer" else " --mode router")
    command += " --names plugin" if plugins else ""
    note = ", ".join(f"{c} {n}" for c, n in skipped.items() if n)
    text = (
        f"# An unseen source: BFCL ({bfcl.PACKAGE} {bfcl.VERSION}, balanced preset)\n\n"
        f"`{command}`: the first turn of every BFCL row as an OpenAI chat request with its "
        f"functions as tools{NAMED_AS_PLUGINS if plugins else ''}; {how}\n"
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
        name = "unseen" + ("" if args.mode == "scorer" else "-router")
        path = args.out / f"{name}{'-plugin' if plugins else ''}.md"
        path.write_text(text)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
