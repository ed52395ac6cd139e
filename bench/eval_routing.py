"""Evaluate routing decisions on the routing-bench and agent-bench development sets (labelled
prompts and agent turns; not shipped in this repository: --bench-dir, --agent-dir).

    python bench/eval_routing.py                          # local scorer, held-out and tune
    python bench/eval_routing.py --split heldout --limit 500
    python bench/eval_routing.py --mode policy --endpoint http://127.0.0.1:8010/openai/v1

Modes: `scorer` (the local scorer with each preset; abstentions settled by stated assumptions),
`classifier` (the small-model classifier on every prompt: the router's `classifier` preset) and
`policy` (the router's RoutingPolicy with --preset: scorer and rules, the classifier where the
scorer abstains, the safe default when the classifier fails). The last two need --endpoint.
Writes a markdown report and a PNG of the cost-quality curves to --out-dir.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import shlex
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.routing import calibration, quality, traffic, turns
from bench.routing.augment import with_tool_lists
from bench.routing.data import (
    DEFAULT_AGENT_DIR,
    DEFAULT_BENCH_DIR,
    Prompt,
    Split,
    by_source,
    load,
    load_agent,
)
from bench.routing.deciders import ABSTAIN_RULES, RouterPolicy, load_policy, route, tier_of
from bench.routing.report import Latency, SplitResults, render
from bench.routing.traffic import Routed
from shared.routing import model
from shared.routing.policy import AUTO, TOOL_ROLES, RoutingPolicy, loop_start
from shared.routing.presets import DEFAULT_PRESET, MODES, PRESETS, TOOL_PRESETS, thresholds_for
from shared.routing.scorer import score_request

# RouteLLM (Ong et al., arXiv:2406.18665), GPT-4 vs Mixtral-8x7B, best router per benchmark;
# see bench/ROUTING.md for where each number comes from.
PUBLISHED = {
    "mt_bench": "13.4% (MF, arena+judge data); random 49.0%",
    "mmlu": "35.4% (best, with MMLU gold labels)",
    "gsm8k": "~34% (secondary sources)",
}


@dataclass(frozen=True, slots=True)
class Scored:
    p_large: float
    abstain: bool = False  # unlike the training data: the classifier decides


def score_all(prompts: Sequence[Prompt], label: str) -> tuple[dict[str, Scored], list[float]]:
    """The score per prompt id (whole requests: tools, tool results), and the time of each
    call in microseconds."""
    scores: dict[str, Scored] = {}
    timings: list[float] = []
    for p in tqdm(prompts, desc=f"scoring {label}", unit="prompt", leave=False):
        start = time.perf_counter()
        score = score_request(p.messages, p.tools)
        timings.append((time.perf_counter() - start) * 1e6)
        scores[p.id] = Scored(score.p_large, score.abstain)
    return scores, timings


def traffic_results(
    prompts: Sequence[Prompt], scores: dict[str, Scored]
) -> dict[str, dict[str, dict[str, traffic.TrafficSummary]]]:
    out: dict[str, dict[str, dict[str, traffic.TrafficSummary]]] = {}
    for name in MODES:
        out[name] = {}
        for rule_name, rule in ABSTAIN_RULES.items():
            routed = [
                route(p, scores[p.id], thresholds_for(name, p.has_tools), rule) for p in prompts
            ]
            out[name][rule_name] = traffic.by_source_and_tools(routed)
    return out


def tool_loop_results(prompts: Sequence[Prompt]) -> dict[str, dict[str, traffic.TrafficSummary]]:
    """Turns that read a tool result, routed per turn and sticky (on the tier the loop's
    opening turn scores to), balanced preset, abstentions to large."""
    thresholds = thresholds_for(DEFAULT_PRESET, tools=True)
    loops = [p for p in prompts if p.messages and p.messages[-1].get("role") in TOOL_ROLES]
    out: dict[str, dict[str, traffic.TrafficSummary]] = {}
    for rule, view in (
        ("per-turn", lambda p: p.messages),
        ("sticky", lambda p: loop_start(p.messages)),
    ):
        routed = [
            route(p, score_request(view(p), p.tools), thresholds, ABSTAIN_RULES["to large"])
            for p in loops
        ]
        out[rule] = traffic.by_source(routed)
    return out


def quality_results(
    prompts: Sequence[Prompt], scores: dict[str, Scored]
) -> tuple[dict[str, dict[str, quality.QualitySummary]], dict[str, dict[str, quality.Curve]]]:
    summaries: dict[str, dict[str, quality.QualitySummary]] = {}
    curves: dict[str, dict[str, quality.Curve]] = {}
    groups = by_source(prompts)
    groups["all"] = list(prompts)
    for source, group in groups.items():
        weak = [p.weak or 0.0 for p in group]
        strong = [p.strong or 0.0 for p in group]
        scorer_curve = quality.curve([scores[p.id].p_large for p in group], weak, strong)
        oracle_curve = quality.oracle_curve(weak, strong)
        n = len(group)
        summaries[source] = {
            "scorer": quality.summarize(scorer_curve, n),
            "random": quality.random_summary(scorer_curve, n),
            "oracle": quality.summarize(oracle_curve, n),
        }
        curves[source] = {"scorer": scorer_curve, "oracle": oracle_curve}
    return summaries, curves


async def model_routing(
    prompts: Sequence[Prompt], policy: RoutingPolicy, *, concurrency: int
) -> tuple[list[Routed], list[float], Counter[str]]:
    """Route each prompt as the router would; the time of each decision (microseconds) and
    how many each step decided (scorer, classifier, cache, default: the classifier failed).

    No session (each row stands alone) and no `needs`: this measures the routing decision;
    eligibility then depends on the deployment's tier table, not on the prompt.
    """
    gate = asyncio.Semaphore(concurrency)
    bar = tqdm(total=len(prompts), desc="policy", unit="prompt", leave=False)

    async def one(p: Prompt) -> tuple[Routed, float, str]:
        async with gate:
            start = time.perf_counter()
            decision = await policy.decide(AUTO, p.messages, p.tools)
            elapsed = (time.perf_counter() - start) * 1e6
        bar.update()
        local = decision.decided_by == "scorer"
        tier = tier_of(policy, decision)
        return turns.routed(p, tier, local), elapsed, decision.decided_by

    done = await asyncio.gather(*(one(p) for p in prompts))
    bar.close()
    return [r for r, _, _ in done], [t for _, t, _ in done], Counter(by for _, _, by in done)


async def route_with_model(
    results: SplitResults,
    args: argparse.Namespace,
    router: RouterPolicy,
    benches: list[tuple[str, Sequence[Prompt]]],
) -> None:
    """Both benchmarks through the router's policy, in one event loop; then close."""
    name = f"policy ({args.preset} preset)" if args.mode == "policy" else "classifier only"
    for bench, prompts in benches:
        routed, latencies, decided_by = await model_routing(
            prompts, router.policy, concurrency=args.concurrency
        )
        results.model_traffic[f"{name}, {bench}"] = traffic.by_source_and_tools(routed)
        print(
            f"{results.split}: {name}, {bench}: decision latency p50 "
            f"{traffic.percentile(latencies, 50) / 1e3:.1f} ms, "
            f"p99 {traffic.percentile(latencies, 99) / 1e3:.1f} ms; decided by "
            + ", ".join(f"{by} {n}" for by, n in decided_by.most_common())
        )
    await router.aclose()


def evaluate_split(
    split: Split, args: argparse.Namespace, router: RouterPolicy | None
) -> tuple[SplitResults, dict[str, dict[str, quality.Curve]], list[float]]:
    traffic_prompts = load(args.bench_dir / "traffic.jsonl", split)[: args.limit]
    quality_prompts = load(args.bench_dir / "quality.jsonl", split)[: args.limit]
    t_scores, t_times = score_all(traffic_prompts, f"{split} traffic")
    q_scores, _ = score_all(quality_prompts, f"{split} quality")

    agent_prompts = load_agent(args.agent_dir, split)[: args.limit]
    a_scores, _ = score_all(agent_prompts, f"{split} agent turns")

    benches: list[tuple[str, Sequence[Prompt]]] = [("routing-bench", traffic_prompts)]
    if agent_prompts:
        benches.append(("agent-bench", agent_prompts))
    results = SplitResults(split=split)
    results.traffic = traffic_results(traffic_prompts, t_scores)
    if agent_prompts:
        results.agent_traffic = traffic_results(agent_prompts, a_scores)
        results.tool_loop = tool_loop_results(agent_prompts)
        # the plain prompts again, a third of them with another row's tool list attached
        plain = [p for p in [*agent_prompts, *traffic_prompts] if not p.has_tools]
        attached = [p for p in with_tool_lists([*agent_prompts, *plain]) if p.has_tools]
        attached = [p for p in attached if p.id in {q.id for q in plain}]
        results.tools_attached = traffic_results(attached, score_all(attached, "attached")[0])
    p = [t_scores[x.id].p_large for x in traffic_prompts]
    y = [x.is_complex for x in traffic_prompts]
    results.brier = calibration.brier(p, y)
    results.reliability = calibration.reliability(p, y)
    results.ece = calibration.expected_calibration_error(results.reliability)
    results.quality, curves = quality_results(quality_prompts, q_scores)

    if router is not None:
        asyncio.run(route_with_model(results, args, router, benches))
    return results, curves, t_times


def measure_latency(prompts: Sequence[Prompt], rounds: int = 5) -> Latency:
    """Warm timings of score_request on whole requests (tools and tool results included), one
    thread.

    Both wall-clock and this thread's CPU time: on a shared machine the wall clock also counts
    time spent waiting for a core, the CPU time only the scorer's own work. The CPU figure is
    each request's least of `rounds` runs: a cycle stolen by a neighbour on a shared VM or a
    collection of another request's garbage would otherwise land in the p99 of whichever
    request it happened to hit.
    """
    for p in prompts[:200]:
        score_request(p.messages, p.tools)
    wall: list[float] = []
    cpu = [math.inf] * len(prompts)
    for _ in range(rounds):
        for i, p in enumerate(prompts):
            start_cpu, start = time.thread_time_ns(), time.perf_counter_ns()
            score_request(p.messages, p.tools)
            wall.append((time.perf_counter_ns() - start) / 1e3)
            cpu[i] = min(cpu[i], (time.thread_time_ns() - start_cpu) / 1e3)
    # a fixed pure-Python loop, to compare this machine's speed with another's
    start = time.thread_time_ns()
    for _ in range(1000):
        sum(range(1000))
    reference = (time.thread_time_ns() - start) / 1e3 / 1000
    return Latency(
        n=len(wall),
        p50_us=traffic.percentile(wall, 50),
        p99_us=traffic.percentile(wall, 99),
        max_us=max(wall),
        cpu_p50_us=traffic.percentile(cpu, 50),
        cpu_p99_us=traffic.percentile(cpu, 99),
        reference_us=reference,
    )


def print_headline(results: SplitResults) -> None:
    for preset, by_rule in results.traffic.items():
        s = by_rule["to large"]["all"]
        print(
            f"{results.split:>8} {preset:>9}: simple->small {s.simple_to_small:.3f}  "
            f"complex recall {s.complex_recall:.3f}  local {s.local_share:.3f}  "
            f"bar {'met' if traffic.meets_bar(s) else 'missed'} (abstentions to large)"
        )
    for preset, by_rule in results.agent_traffic.items():
        tools, s = by_rule["to large"].get("with tools"), by_rule["to large"]["all"]
        print(
            f"{results.split:>8} {preset:>9} agent-bench: simple tool-bearing turns to small "
            f"{tools.simple_to_small if tools else float('nan'):.3f}  "
            f"complex recall {s.complex_recall:.3f}  local {s.local_share:.3f} "
            "(abstentions to large)"
        )
    for source, routers in results.quality.items():
        q, o = routers["scorer"], routers["oracle"]
        print(
            f"{results.split:>8} {source:>9}: CPT50 {q.cpt50:.3f} CPT95 {q.cpt95:.3f} "
            f"APGR {q.apgr:.3f} (oracle CPT95 {o.cpt95:.3f}, random 0.950)"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--mode", choices=("scorer", "classifier", "policy"), default="scorer")
    parser.add_argument("--endpoint", help="chat-completions base URL for the classifier")
    parser.add_argument("--bench-dir", type=Path, default=DEFAULT_BENCH_DIR)
    parser.add_argument("--agent-dir", type=Path, default=DEFAULT_AGENT_DIR)
    parser.add_argument(
        "--split",
        choices=("heldout", "tune", "all", "both"),
        default="both",
        help="both = held-out (headline) then tune",
    )
    parser.add_argument("--limit", type=int, default=None, help="first N prompts of each file")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG (and matplotlib)")
    parser.add_argument(
        "--preset", choices=sorted(PRESETS), default=DEFAULT_PRESET, help="for --mode policy"
    )
    parser.add_argument(
        "--out-dir", type=Path, default=Path(__file__).parent / "routing" / "results"
    )
    args = parser.parse_args(argv)

    if args.mode != "scorer" and not args.endpoint:
        parser.error("--mode classifier|policy needs --endpoint")

    splits: list[Split] = ["heldout", "tune"] if args.split == "both" else [args.split]
    all_results: list[SplitResults] = []
    headline_curves: dict[str, dict[str, quality.Curve]] = {}
    typical: list[Prompt] = []
    for split in splits:
        # one policy (and connection pool) per split: route_with_model closes it
        router = None
        if args.mode != "scorer":
            # the classifier preset abstains on everything: classify every request
            preset = "classifier" if args.mode == "classifier" else args.preset
            router = load_policy(args.endpoint, preset)
        results, curves, _ = evaluate_split(split, args, router)
        all_results.append(results)
        if not headline_curves:
            headline_curves = curves
            typical = load(args.bench_dir / "traffic.jsonl", split)[: args.limit]
            typical += load_agent(args.agent_dir, split)[: args.limit]
        print_headline(results)

    latency = measure_latency(typical)
    with_tools = [p for p in typical if p.has_tools]
    tools_latency = measure_latency(with_tools) if with_tools else None
    for name, measured in (("", latency), (" with tools", tools_latency)):
        if measured is not None:
            print(
                f"score_request latency{name}: wall p50 {measured.p50_us:.0f} us, "
                f"p99 {measured.p99_us:.0f} us; CPU p50 {measured.cpu_p50_us:.0f} us, "
                f"p99 {measured.cpu_p99_us:.0f} us"
            )

    args.out_dir.mkdir(parents=True, exist_ok=True)
    plot_name = None if args.no_plot else "routing-curves.png"
    if plot_name is not None:
        from bench.routing.plot import plot_curves  # matplotlib is slow to import: only here

        title = f"Cost-quality curves, {splits[0]} split (weak Mixtral-8x7B, strong GPT-4)"
        plot_curves(headline_curves, args.out_dir / plot_name, title)
    command = "python bench/eval_routing.py " + shlex.join(
        argv if argv is not None else sys.argv[1:]
    )
    report = render(
        title="Routing evaluation",
        command=command.strip(),
        splits=all_results,
        presets=PRESETS,
        tool_presets=TOOL_PRESETS,
        headline_preset=DEFAULT_PRESET,
        latency=latency,
        tools_latency=tools_latency,
        artifact_kib=model.ARTIFACT.stat().st_size / 1024,
        published=PUBLISHED,
        plot_name=plot_name,
    )
    (args.out_dir / "routing-report.md").write_text(report + "\n")
    print(
        f"wrote {args.out_dir / 'routing-report.md'}" + (f" and {plot_name}" if plot_name else "")
    )


if __name__ == "__main__":
    main()
