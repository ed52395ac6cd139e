"""Leave one source out: train the scorer without a source, measure it on that source.

    python bench/loso_routing.py [--sources sgd_tool_call tau_retail ...]
                                 [--out bench/routing/results/loso.md]

The closest the development data comes to "traffic of a kind the scorer never saw". For each
source of the routing-bench and agent-bench development sets (traffic.jsonl of each), the need
head is refitted on the tune split of every other source (the shipped C), calibrated on 3-fold
out-of-fold scores of that training part, and every row of the left-out source (both splits:
none of it was seen) is scored with the shipped blend, gain head, rules and presets. The gain
head is the shipped one: it orders only requests the need head is already sure are complex.
The shipped artifact is untouched. Needs requirements-bench.txt; about 20 s per source here.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common.table import markdown
from bench.routing import traffic
from bench.routing.augment import with_tool_lists
from bench.routing.data import DEFAULT_AGENT_DIR, DEFAULT_BENCH_DIR, Prompt, load, select
from bench.routing.deciders import ABSTAIN_RULES, AbstainRule
from bench.routing.design import design_matrix
from bench.routing.traffic import Routed
from bench.train_scorer import SEED, fit, head, platt, support
from shared.routing import model
from shared.routing.presets import DEFAULT_PRESET, PRESETS
from shared.routing.scorer import LocalScorer

NEED_C = 1.0  # the shipped need head's C (bench/train_scorer.py prints the one it chose)
CALIBRATION_FOLDS = 3


def refit_without(prompts: Sequence[Prompt], shipped: model.ScorerModel) -> model.ScorerModel:
    """The shipped model with its need head and calibration refitted on `prompts` only."""
    x = design_matrix(prompts)
    y = np.array([p.is_complex for p in prompts])
    strata = [f"{p.source}/{p.label}" for p in prompts]
    z = np.zeros(len(prompts))
    split = StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=SEED)
    for train_rows, test_rows in split.split(strata, strata):
        z[test_rows] = fit(x[train_rows], y[train_rows], NEED_C).decision_function(x[test_rows])
    cap = shipped.blend.need_cap
    # calibrate where the need head decides alone; above the cap the blend is the shipped one
    scale, offset = platt(np.minimum(z, cap), y)
    blend = replace(shipped.blend, scale=round(scale, 4), offset=round(offset, 4))
    return replace(
        shipped,
        need=head(fit(x, y, NEED_C)),
        blend=blend,
        support=support(x),
        _paired={},
        _per_word={},
    )


def routed(prompts: Sequence[Prompt], scorer: LocalScorer, rule: AbstainRule) -> list[Routed]:
    thresholds = PRESETS[DEFAULT_PRESET]
    out = []
    for p in prompts:
        score = scorer.score(p.messages, p.tools)
        local = thresholds.decide(score.p_large, score.abstain)
        tier = rule(p) if local == "abstain" else local
        out.append(Routed(p.source, p.is_complex, tier, local != "abstain", p.has_tools))
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench-dir", type=Path, default=DEFAULT_BENCH_DIR)
    parser.add_argument("--agent-dir", type=Path, default=DEFAULT_AGENT_DIR)
    parser.add_argument("--sources", nargs="*", help="only these sources (default: all)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "routing" / "results")
    args = parser.parse_args(argv)

    rows = load(args.bench_dir / "traffic.jsonl") + load(args.agent_dir / "traffic.jsonl")
    shipped = model.load()
    sources = args.sources or sorted({p.source for p in rows})
    table = []
    for source in sources:
        started = time.perf_counter()
        training = with_tool_lists(select([p for p in rows if p.source != source], "tune"))
        scorer = LocalScorer(refit_without(training, shipped))
        left_out = [p for p in rows if p.source == source]
        to_large = traffic.summarize(routed(left_out, scorer, ABSTAIN_RULES["to large"]))
        to_small = traffic.summarize(routed(left_out, scorer, ABSTAIN_RULES["to small"]))
        keyword = traffic.summarize(routed(left_out, scorer, ABSTAIN_RULES["keyword classifier"]))
        label = "complex" if to_large.n_complex else "simple"
        if to_large.n_simple and to_large.n_complex:
            label = "both"
        with_tools = sum(p.has_tools for p in left_out)
        line = [
            source,
            label,
            to_large.n,
            with_tools,
            _pct(to_large.simple_to_small),
            _pct(to_small.complex_recall),
            _pct(to_small.simple_to_small),
            _pct(to_large.complex_recall),
            _pct(keyword.simple_to_small),
            _pct(keyword.complex_recall),
            _pct(to_large.local_share),
        ]
        table.append(line)
        print(" | ".join(str(c) for c in line), f"({time.perf_counter() - started:.0f} s)")
    header = [
        "left out",
        "labels",
        "n",
        "with tools",
        "simple to small (abstain -> large)",
        "complex recall (abstain -> small)",
        "simple to small (abstain -> small)",
        "complex recall (abstain -> large)",
        "simple to small (keyword classifier)",
        "complex recall (keyword classifier)",
        "decided locally",
    ]
    text = (
        "# Leave one source out (balanced preset)\n\n"
        "`python bench/loso_routing.py`: the need head refitted without the source, "
        "measured on all of it.\nThe worst cases first: simple to small with every abstention "
        "sent to large, complex recall with every abstention sent to small; then the best cases, "
        "and the keyword stand-in for a classifier in the band (bench/routing/deciders.py).\n\n"
        + markdown(header, table)
        + "\n"
    )
    if not args.sources:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "loso.md").write_text(text)
        print(f"wrote {args.out / 'loso.md'}")
    else:
        print(text)


def _pct(x: float) -> str:
    return "-" if x != x else f"{100 * x:.1f}%"


if __name__ == "__main__":
    main()
