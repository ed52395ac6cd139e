"""The evaluation's markdown report, from its results (no computation here)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bench.common.table import percent
from bench.routing.calibration import Bin
from bench.routing.quality import QualitySummary
from bench.routing.traffic import TrafficSummary, meets_bar
from shared.routing.presets import Thresholds


@dataclass(frozen=True, slots=True)
class Latency:
    n: int
    p50_us: float  # wall clock
    p99_us: float
    max_us: float
    cpu_p50_us: float  # the scoring thread's CPU time, each request's least of the rounds
    cpu_p99_us: float
    reference_us: float  # CPU time of sum(range(1000)) on this machine


@dataclass(slots=True)
class SplitResults:
    """Everything measured on one split of the benchmark."""

    split: str
    # preset -> abstain rule -> source -> summary
    traffic: dict[str, dict[str, dict[str, TrafficSummary]]] = field(default_factory=dict)
    # source -> {"scorer" | "random" | "oracle": summary}
    quality: dict[str, dict[str, QualitySummary]] = field(default_factory=dict)
    brier: float = math.nan
    reliability: list[Bin] = field(default_factory=list)
    ece: float = math.nan
    # extra rows from model-backed modes: name -> source -> summary
    model_traffic: dict[str, dict[str, TrafficSummary]] = field(default_factory=dict)
    # the agent-bench development set, like `traffic` (sources, then with / without tools, then all)
    agent_traffic: dict[str, dict[str, dict[str, TrafficSummary]]] = field(default_factory=dict)
    # turns that read a tool result: "per-turn" | "sticky" -> source -> summary
    tool_loop: dict[str, dict[str, TrafficSummary]] = field(default_factory=dict)
    # plain prompts of this split with another row's tool list attached, like `traffic`
    tools_attached: dict[str, dict[str, dict[str, TrafficSummary]]] = field(default_factory=dict)


def traffic_table(rows: Mapping[str, TrafficSummary]) -> list[str]:
    lines = [
        "| source | n | to small | simple to small | complex recall | complex precision "
        "| decided locally |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for source, s in rows.items():
        name = f"**{source}**" if source == "all" else source
        lines.append(
            f"| {name} | {s.n} | {percent(s.small_share)} | {percent(s.simple_to_small)} "
            f"| {percent(s.complex_recall)} | {percent(s.complex_precision)} "
            f"| {percent(s.local_share)} |"
        )
    return lines


KIND_RULES = ("to large", "emulator classifier", "to small")


def kind_table(by_rule: Mapping[str, Mapping[str, TrafficSummary]]) -> list[str]:
    """Per turn kind, then with / without tools and all: simple to small and complex recall
    under each way of settling abstentions (KIND_RULES), and the share decided locally."""
    rows = [k for k in by_rule["to large"] if k.startswith("turn: ")]
    rows += [k for k in ("with tools", "without tools", "all") if k in by_rule["to large"]]
    lines = [
        "| turn kind | n | simple to small: abstentions large / emulator / small "
        "| complex recall: abstentions large / emulator / small | decided locally |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        s = [by_rule[rule][row] for rule in KIND_RULES]
        simple = " / ".join(percent(x.simple_to_small) for x in s)
        recall = " / ".join(percent(x.complex_recall) for x in s)
        if s[0].n_simple == 0:
            simple = "-"
        if s[0].n_complex == 0:
            recall = "-"
        name = row.removeprefix("turn: ")
        lines.append(f"| {name} | {s[0].n} | {simple} | {recall} | {percent(s[0].local_share)} |")
    return lines


def started_early(by_rule: Mapping[str, Mapping[str, TrafficSummary]], row: str) -> str:
    """What answering while the classifier decides (ROUTER_SPECULATE) does to `row`, the
    emulator's classifier giving the verdicts: the share that reaches the classifier, the share
    answered by the call started beside it, the share that drops that call (complex verdicts)."""
    asked = 1 - by_rule["to large"][row].local_share
    # what a complex verdict sends large of what the worst case for recall sent small
    dropped = by_rule["to small"][row].small_share - by_rule["emulator classifier"][row].small_share
    return (
        f"{percent(asked)} reach the classifier: {percent(asked - dropped)} answered by the call "
        f"started beside it, {percent(dropped)} drop it"
    )


def preset_overview(
    traffic: Mapping[str, Mapping[str, Mapping[str, TrafficSummary]]],
    presets: Mapping[str, Thresholds],
    tool_presets: Mapping[str, Thresholds] | None = None,
) -> list[str]:
    """One line per preset and abstain rule, all sources together; the thresholds shown are
    those without tools, then those with tools (presets.TOOL_PRESETS)."""
    lines = [
        "| preset | thresholds (small < p, large >= p) | abstained prompts go | to small "
        "| simple to small | complex recall | decided locally | bar |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for preset, by_rule in traffic.items():
        t = presets[preset]
        bands = f"{t.small_below} / {t.large_at_or_above}"
        if tool_presets is not None:
            w = tool_presets[preset]
            bands += f"; with tools {w.small_below} / {w.large_at_or_above}"
        for rule, rows in by_rule.items():
            s = rows["all"]
            lines.append(
                f"| {preset} | {bands} | {rule} "
                f"| {percent(s.small_share)} | {percent(s.simple_to_small)} "
                f"| {percent(s.complex_recall)} | {percent(s.local_share)} "
                f"| {'met' if meets_bar(s) else 'missed'} |"
            )
    return lines


def quality_table(results: SplitResults, published: Mapping[str, str]) -> list[str]:
    lines = [
        "| source | n | weak / strong quality | router | CPT(50%) | CPT(80%) | CPT(95%) "
        "| Q95 | APGR | RouteLLM published CPT(50%) |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for source, routers in results.quality.items():
        for router, s in routers.items():
            first = router == "scorer"
            lines.append(
                f"| {source if first else ''} | {s.n if first else ''} "
                f"| {f'{s.all_weak:.3f} / {s.all_strong:.3f}' if first else ''} | {router} "
                f"| {percent(s.cpt50)} | {percent(s.cpt80)} | {percent(s.cpt95)} "
                f"| {percent(s.q95)} "
                f"| {s.apgr:.3f} | {published.get(source, '') if first else ''} |"
            )
    return lines


def reliability_table(bins: Sequence[Bin]) -> list[str]:
    lines = ["| p_large bin | n | mean p_large | observed complex |", "|---|---:|---:|---:|"]
    for b in bins:
        lines.append(f"| [{b.low:.2f}, {b.high:.2f}) | {b.n} | {b.mean_p:.3f} | {b.observed:.3f} |")
    return lines


def render(
    *,
    title: str,
    command: str,
    splits: Sequence[SplitResults],
    presets: Mapping[str, Thresholds],
    headline_preset: str,
    latency: Latency,
    tool_presets: Mapping[str, Thresholds] | None = None,
    artifact_kib: float,
    tools_latency: Latency | None = None,
    published: Mapping[str, str],
    plot_name: str | None,
) -> str:
    out = [f"# {title}", "", f"Generated by `{command}`.", ""]
    out += [
        "## Local scorer latency",
        "",
        f"{latency.n} calls of `score_request` (the traffic prompts, five rounds, one thread, "
        "after a warm-up). CPU time (each request's least of the five): "
        f"p50 {latency.cpu_p50_us:.0f} us, "
        f"p99 {latency.cpu_p99_us:.0f} us. Wall clock: p50 {latency.p50_us:.0f} us, "
        f"p99 {latency.p99_us:.0f} us, max {latency.max_us:.0f} us. "
        f"Machine speed for reference: `sum(range(1000))` takes {latency.reference_us:.1f} us "
        f"of CPU here. Artifact {artifact_kib:.0f} KiB.",
        "",
    ]
    if tools_latency is not None:
        out += [
            f"The {tools_latency.n} calls on requests with tools alone (agent turns: tool lists, "
            f"tool calls and results): CPU p50 {tools_latency.cpu_p50_us:.0f} us, "
            f"p99 {tools_latency.cpu_p99_us:.0f} us; wall clock p50 {tools_latency.p50_us:.0f} "
            f"us, p99 {tools_latency.p99_us:.0f} us.",
            "",
        ]
    for results in splits:
        out += [f"## Split: {results.split}", ""]
        if results.split == "tune":
            out += [
                "The scorer was trained on this split: these numbers are in-sample (the gain "
                "head has seen these very answers), shown only beside the held-out ones.",
                "",
            ]
        out += ["### Traffic track, all presets", ""]
        out += preset_overview(results.traffic, presets, tool_presets)
        out += ["", f"### Traffic track per source ({headline_preset}, abstentions to large)", ""]
        out += traffic_table(results.traffic[headline_preset]["to large"])
        if results.agent_traffic:
            out += ["", "### Agent turns (the agent-bench development set), all presets", ""]
            out += preset_overview(results.agent_traffic, presets, tool_presets)
            out += [
                "",
                f"### Agent turns per source ({headline_preset}, abstentions to large)",
                "",
            ]
            out += traffic_table(results.agent_traffic[headline_preset]["to large"])
            out += ["", f"### Agent turns per turn kind ({headline_preset})", ""]
            out += kind_table(results.agent_traffic[headline_preset])
            out += [
                "",
                f"### Answers started beside the classifier ({headline_preset}, the emulator's "
                "classifier giving the verdicts)",
                "",
                "- agent turns with tools: "
                + started_early(results.agent_traffic[headline_preset], "with tools"),
                "- the traffic track: " + started_early(results.traffic[headline_preset], "all"),
            ]
            out += [
                "",
                f"### Agent turns per source ({headline_preset}, abstentions to small)",
                "",
            ]
            out += traffic_table(results.agent_traffic[headline_preset]["to small"])
        if results.tools_attached:
            out += [
                "",
                "### Plain prompts with a tool list attached "
                f"({headline_preset}, abstentions to large)",
                "",
                "A third of this split's prompts without tools, each with another row's tool "
                "list attached (bench/routing/augment.py): the tools must not change the verdict.",
                "",
            ]
            out += traffic_table(results.tools_attached[headline_preset]["to large"])
        for rule, rows in results.tool_loop.items():
            out += ["", f"### Tool-result turns, {rule} ({headline_preset}, abstentions to large)"]
            out += ["", *traffic_table(rows)]
        for name, rows in results.model_traffic.items():
            out += ["", f"### Traffic track per source ({name})", ""]
            out += traffic_table(rows)
        out += [
            "",
            f"### Calibration of p_large on traffic: Brier {results.brier:.4f}, "
            f"ECE {results.ece:.4f}",
            "",
        ]
        out += reliability_table(results.reliability)
        out += ["", "### Quality track", ""]
        out += quality_table(results, published)
        out += [""]
    if plot_name:
        out += ["## Cost-quality curves", "", f"![cost-quality curves]({plot_name})", ""]
    return "\n".join(out)
