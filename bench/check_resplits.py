"""How much the headline numbers move with the split: retrain on other 70/30 splits.

    python bench/check_resplits.py [--salts a b c d] [--out bench/routing/results/resplits.md]

Each salt gives another deterministic split (bench/routing/data.py:split_of) of both
benchmarks; the whole training procedure (bench/train_scorer.py: tune_traffic, train) runs on
its tune part, in memory, and the held-out part of each benchmark is scored, whole requests with
their tools, with that model and its own presets. The shipped artifact is untouched.
This is the closest stand-in for "prompts you have not seen" that the development data allows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.routing import quality, traffic
from bench.routing.data import (
    DEFAULT_AGENT_DIR,
    DEFAULT_BENCH_DIR,
    by_source,
    load,
    load_agent,
)
from bench.routing.deciders import ABSTAIN_RULES, route_all
from bench.train_scorer import train, tune_traffic
from shared.routing.presets import MODES
from shared.routing.scorer import LocalScorer

TO_LARGE, TO_SMALL = ABSTAIN_RULES["to large"], ABSTAIN_RULES["to small"]


def one_split(salt: str, bench_dir: Path, agent_dir: Path) -> list[str]:
    trained = train(
        tune_traffic(bench_dir, agent_dir, salt),
        load(bench_dir / "quality.jsonl", "tune", salt),
        log=lambda _line: None,
    )
    scorer = LocalScorer(trained.model)
    rows = []
    agent = load_agent(agent_dir, "heldout", salt)
    held = {
        "routing-bench": load(bench_dir / "traffic.jsonl", "heldout", salt),
        "agent-bench": agent,
        "agent-bench, turns with tools": [p for p in agent if p.has_tools],
    }
    for name, held_t in held.items():
        t_scores = [scorer.score(p.messages, p.tools) for p in held_t]
        for mode in MODES:
            t, w = trained.presets[mode], trained.tool_presets[mode]
            worst_simple = traffic.summarize(route_all(held_t, t_scores, (t, w), TO_LARGE))
            worst_complex = traffic.summarize(route_all(held_t, t_scores, (t, w), TO_SMALL))
            met = traffic.meets_bar(worst_simple) and traffic.meets_bar(worst_complex)
            rows.append(
                f"| {salt} | {name} | {mode} | {t.small_below} / {t.large_at_or_above}; "
                f"with tools {w.small_below} / {w.large_at_or_above} "
                f"| {worst_simple.simple_to_small:.3f} | {worst_simple.complex_recall:.3f} "
                f"| {worst_complex.complex_recall:.3f} | {worst_simple.local_share:.3f} "
                f"| {'met' if met else 'missed'} |"
            )
    held_q = load(bench_dir / "quality.jsonl", "heldout", salt)
    q_scores = {p.id: scorer.score(p.messages).p_large for p in held_q}
    cpts = []
    for source, group in sorted(by_source(held_q).items()):
        c = quality.curve(
            [q_scores[p.id] for p in group],
            [p.weak or 0.0 for p in group],
            [p.strong or 0.0 for p in group],
        )
        cpts.append(
            f"{source} {100 * quality.cpt(c, 0.5):.0f}% / {100 * quality.cpt(c, 0.95):.0f}%"
        )
    cells = "; ".join(cpts)
    rows.append(
        f"| {salt} | routing-bench | quality track, CPT(50%) / CPT(95%) | {cells} | | | | | |"
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench-dir", type=Path, default=DEFAULT_BENCH_DIR)
    parser.add_argument("--agent-dir", type=Path, default=DEFAULT_AGENT_DIR)
    parser.add_argument("--salts", nargs="+", default=["a", "b", "c", "d"])
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "routing" / "results" / "resplits.md"
    )
    args = parser.parse_args()
    lines = [
        "| salt | held-out | preset | thresholds | simple to small (abstentions to large) "
        "| complex recall (abstentions to large) | complex recall (abstentions to small) "
        "| decided locally | bar either way |",
        "|---|---|---|---|---:|---:|---:|---:|---|",
    ]
    for salt in args.salts:
        lines += one_split(salt, args.bench_dir, args.agent_dir)
        print("\n".join(lines[-10:]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
