"""Leave one source out: train the scorer without a source, measure it on that source.

    python bench/loso_routing.py [--by dataset|source] [--sources apibank tau_retail ...]
                                 [--out bench/routing/results]

The closest the development data comes to "traffic of a kind the scorer never saw". By default
a whole public dataset is left out (API-Bank's calls, results and plans together: siblings
share a style, so leaving one in would flatter the other); `--by source` leaves out one source.
For each of the routing-bench and agent-bench development sets' files, the need
head is refitted on the tune split of every other source (the shipped C), calibrated on 3-fold
out-of-fold scores of that training part, and every row of the left-out source (both splits:
none of it was seen) is scored with the shipped blend, gain head and rules, and with the
balanced bands chosen on those out-of-fold scores by the shipped budgets (the shipped presets
have seen the left-out source). The last tables sweep the budgets of the bands with and without
tools. The gain head is the shipped one: it orders only requests the need head is already sure
are complex.
The shipped artifact is untouched. Needs requirements-bench.txt; about 20 s per source here.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common.table import markdown, percent
from bench.routing import thresholds, traffic, turns
from bench.routing.augment import with_tool_lists
from bench.routing.data import (
    DEFAULT_AGENT_DIR,
    DEFAULT_BENCH_DIR,
    Prompt,
    load,
    load_agent,
    select,
)
from bench.routing.deciders import ABSTAIN_RULES, route_all
from bench.routing.design import design_matrix
from bench.routing.traffic import Routed
from bench.train_scorer import (
    BUDGETS,
    BUDGETS_WITH_TOOLS,
    PLAIN_BUDGETS,
    SEED,
    TOOL_BUDGETS,
    fit,
    head,
    platt,
    sigmoid,
    support,
    with_rules,
)
from shared.routing import model
from shared.routing.presets import DEFAULT_PRESET, Thresholds
from shared.routing.scorer import LocalScorer

NEED_C = 1.0  # the shipped need head's C (bench/train_scorer.py prints the one it chose)
CALIBRATION_FOLDS = 3


@dataclass(frozen=True, slots=True)
class Refit:
    """The shipped model refitted without a group, and its bands for each tool budget."""

    scorer: LocalScorer
    # the default preset's bands, per (complex to small, simple to large) budget
    plain: dict[tuple[float, float], Thresholds]
    with_tools: dict[tuple[float, float], Thresholds]


def refit_without(
    prompts: Sequence[Prompt], shipped: model.ScorerModel, need_c: float = NEED_C
) -> Refit:
    """The shipped model with its need head (regularised by `need_c`) and calibration
    refitted on `prompts` only, and the default preset's bands chosen on that part's own
    out-of-fold scores (the shipped presets have seen the left-out group)."""
    x = design_matrix(prompts)
    y = np.array([p.is_complex for p in prompts])
    strata = [f"{p.source}/{p.label}" for p in prompts]
    z = np.zeros(len(prompts))
    split = StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=SEED)
    for train_rows, test_rows in split.split(strata, strata):
        z[test_rows] = fit(x[train_rows], y[train_rows], need_c).decision_function(x[test_rows])
    cap = shipped.blend.need_cap
    # calibrate where the need head decides alone; above the cap the blend is the shipped one
    scale, offset = platt(np.minimum(z, cap), y)
    blend = replace(shipped.blend, scale=round(scale, 4), offset=round(offset, 4))
    refitted = replace(
        shipped,
        need=head(fit(x, y, need_c)),
        blend=blend,
        support=support(x),
        _paired={},
        _per_word={},
    )
    p_oof = with_rules(prompts, sigmoid(scale * np.minimum(z, cap) + offset))
    tools = np.array([p.has_tools for p in prompts])

    def bands(rows: np.ndarray, budget: tuple[float, float]) -> Thresholds:
        return thresholds.choose(
            p_oof[rows].tolist(),
            y[rows].tolist(),
            complex_to_small=budget[0],
            simple_to_large=budget[1],
        )

    return Refit(
        LocalScorer(refitted),
        {budget: bands(~tools, budget) for budget in PLAIN_BUDGETS},
        {budget: bands(tools, budget) for budget in TOOL_BUDGETS},
    )


HEADER = [
    "left out",
    "labels",
    "n",
    "with tools",
    "simple to small (abstain -> large)",
    "complex recall (abstain -> small)",
    "simple to small (abstain -> small)",
    "complex recall (abstain -> large)",
    "simple to small (emulator classifier)",
    "complex recall (emulator classifier)",
    "decided locally",
]
RULES = ("to large", "to small", "emulator classifier")


def line(name: str, by_rule: dict[str, list[Routed]]) -> list[object]:
    to_large, to_small, emulator = (traffic.summarize(by_rule[r]) for r in RULES)
    label = "complex" if to_large.n_complex else "simple"
    if to_large.n_simple and to_large.n_complex:
        label = "both"
    return [
        name,
        label,
        to_large.n,
        sum(r.tools for r in by_rule["to large"]),
        percent(to_large.simple_to_small),
        percent(to_small.complex_recall),
        percent(to_small.simple_to_small),
        percent(to_large.complex_recall),
        percent(emulator.simple_to_small),
        percent(emulator.complex_recall),
        percent(to_large.local_share),
    ]


def group_rows(
    outcomes: dict[str, list[Routed]], key: Callable[[Routed], str | None]
) -> list[list[object]]:
    """One line per value of `key` over every left-out row (None: not counted)."""
    names = sorted({k for r in outcomes["to large"] if (k := key(r)) is not None})
    return [
        line(name, {rule: [r for r in rs if key(r) == name] for rule, rs in outcomes.items()})
        for name in names
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench-dir", type=Path, default=DEFAULT_BENCH_DIR)
    parser.add_argument("--agent-dir", type=Path, default=DEFAULT_AGENT_DIR)
    parser.add_argument("--sources", nargs="*", help="only these groups (default: all)")
    parser.add_argument(
        "--by",
        choices=("dataset", "source"),
        default="dataset",
        help="leave out a whole public dataset (apibank: its calls, results, plans) or one source",
    )
    parser.add_argument(
        "--need-c",
        type=float,
        default=NEED_C,
        help="the need head's regularisation to compare (default: the shipped one's); "
        "written to the results only at the default",
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "routing" / "results")
    args = parser.parse_args(argv)

    rows = load(args.bench_dir / "traffic.jsonl") + load_agent(args.agent_dir)
    group_of = turns.family_of if args.by == "dataset" else (lambda s: s)
    shipped = model.load()
    groups = args.sources or sorted({group_of(p.source) for p in rows})
    outcomes: dict[str, list[Routed]] = {rule: [] for rule in RULES}
    # balanced's budgets against others: every left-out turn with tools (or without), per budget
    swept: dict[bool, dict[tuple[float, float], dict[str, list[Routed]]]] = {
        tools: {budget: {rule: [] for rule in RULES} for budget in budgets}
        for tools, budgets in ((True, TOOL_BUDGETS), (False, PLAIN_BUDGETS))
    }
    table = []
    for group in groups:
        started = time.perf_counter()
        kept = [p for p in rows if group_of(p.source) != group]
        refit = refit_without(with_tool_lists(select(kept, "tune")), shipped, args.need_c)
        left_out = [p for p in rows if group_of(p.source) == group]
        scores = [refit.scorer.score(p.messages, p.tools) for p in left_out]
        shipped_bands = (
            refit.plain[BUDGETS[DEFAULT_PRESET]],
            refit.with_tools[BUDGETS_WITH_TOOLS[DEFAULT_PRESET]],
        )
        by_rule = {
            rule: route_all(left_out, scores, shipped_bands, ABSTAIN_RULES[rule]) for rule in RULES
        }
        for rule in RULES:
            outcomes[rule] += by_rule[rule]
        # each population's rows under each of its own budgets' bands
        for tools, per_budget in ((True, refit.with_tools), (False, refit.plain)):
            mine = [i for i, p in enumerate(left_out) if p.has_tools == tools]
            prompts, verdicts = [left_out[i] for i in mine], [scores[i] for i in mine]
            for budget, bands in per_budget.items():
                for rule in RULES:
                    swept[tools][budget][rule] += route_all(
                        prompts, verdicts, (bands, bands), ABSTAIN_RULES[rule]
                    )
        table.append(line(group, by_rule))
        print(" | ".join(str(c) for c in table[-1]), f"({time.perf_counter() - started:.0f} s)")
    by_source = group_rows(outcomes, lambda r: r.source)
    by_kind = group_rows(outcomes, lambda r: r.kind or None)
    totals = [
        line(name, {rule: [r for r in rs if keep(r)] for rule, rs in outcomes.items()})
        for name, keep in (
            ("all, with tools", lambda r: r.tools),
            ("all, without tools", lambda r: not r.tools),
            ("all", lambda _r: True),
        )
    ]
    sweeps = {
        tools: [line(f"{100 * c:g}% / {100 * s:g}%", outcome) for (c, s), outcome in by.items()]
        for tools, by in swept.items()
    }
    unit = "public dataset (every source of it)" if args.by == "dataset" else "source"
    text = (
        f"# Leave one {args.by} out (balanced preset)\n\n"
        f"`python bench/loso_routing.py --by {args.by}`: for each {unit}, the need head refitted "
        "without it, measured on all of its rows.\n"
        "The worst cases first: simple to small with every abstention "
        "sent to large, complex recall with every abstention sent to small; then the best cases, "
        "and the emulator's keyword classifier in the band (bench/routing/deciders.py).\n\n"
        + markdown(HEADER, table)
        + "\n\n## Every left-out row, per source\n\n"
        + markdown(HEADER, by_source)
        + "\n\n## Every left-out row, per turn kind (bench/routing/turns.py)\n\n"
        + markdown(HEADER, by_kind + totals)
        + "\n\n## Turns with tools under other budgets for the balanced bands with tools\n\n"
        "Budget = complex to small / simple to large, on each fold's own out-of-fold scores "
        "(train_scorer.TOOL_BUDGETS); every left-out turn with tools.\n\n"
        + markdown(["budget", *HEADER[1:]], sweeps[True])
        + "\n\n## Requests without tools under other budgets for the balanced bands\n\n"
        "The same for the bands without tools (train_scorer.PLAIN_BUDGETS); every left-out "
        "request without tools.\n\n" + markdown(["budget", *HEADER[1:]], sweeps[False]) + "\n"
    )
    if not args.sources and args.need_c == NEED_C:
        args.out.mkdir(parents=True, exist_ok=True)
        name = "loso.md" if args.by == "dataset" else "loso-by-source.md"
        (args.out / name).write_text(text)
        print(f"wrote {args.out / name}")
    else:
        print(text)


if __name__ == "__main__":
    main()
