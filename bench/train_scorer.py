"""Train the local scorer on the tune split and write shared/routing/scorer_model.json.

    python bench/train_scorer.py [--bench-dir ROUTING_BENCH] [--agent-dir AGENT_BENCH] [--out PATH]

The routing-bench and agent-bench development sets are not shipped in this repository; the
defaults are bench/routing/data.py's.

Only the tune part of the benchmarks (bench/routing/data.py: 70% by a hash of the id) is read:
the routing-bench's prompts and the agent-bench's whole request bodies (tools, tool results).
Hyper-parameters, the blend of the two heads and the presets' thresholds are all chosen on
5-fold out-of-fold scores of that part, so the held-out part stays untouched for the report.
Needs numpy, scipy and scikit-learn (requirements-dev.txt); the artifact needs none of them.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.routing import quality, thresholds
from bench.routing.augment import with_tool_lists
from bench.routing.data import DEFAULT_AGENT_DIR, DEFAULT_BENCH_DIR, Prompt, load, load_agent
from bench.routing.design import design_matrix
from shared.routing import model, rules
from shared.routing.features import (
    ALL_SIGNALS,
    HASH_BITS,
    MODEL_INPUTS,
    TURN_SIGNALS,
    request_features,
    view_request,
)
from shared.routing.presets import Thresholds

SEED = 0
FOLDS = 5
NEED_C = (0.3, 1.0, 3.0)
GAIN_C = (0.01, 0.03, 0.1)
NEED_CAPS = (2.0, 3.0, 4.0)
GAIN_WEIGHTS = (0.0, 2.0, 4.0, 8.0)
# A blend may cost the traffic calibration at most this much Brier to buy quality-track order.
BRIER_SLACK = 1.15
WEIGHT_DIGITS = 4
# The out-of-distribution guard (model.Support): bands of half a unit of each agent-turn signal
# (a factor of e in a count, e^2 in characters); a band with fewer tune requests is unfamiliar.
SUPPORT_BIN_WIDTH = 0.5
SUPPORT_MIN_ROWS = 5
SUPPORT_BINS = 12

# Error budgets of the local decisions, per preset: share of complex prompts the scorer may send
# to small by itself, share of simple prompts it may send to large by itself. The bar is complex
# recall >= 0.97 and >= 90% of simple on small; the budgets leave room for the classifier's own
# mistakes in the band and for prompts not seen here. Balanced's are chosen by leaving whole
# datasets out (bench/loso_routing.py sweeps PLAIN_BUDGETS and TOOL_BUDGETS): each is the widest
# local band whose complex recall, on every left-out request with every abstention sent large,
# stays at or above 0.97. Without tools, 0.5% keeps 97.1% recall with 93.2% of simple requests
# small (1% gives 95.0% but 96.4% recall).
BUDGETS: dict[str, tuple[float, float]] = {
    "cost": (0.02, 0.002),
    "balanced": (0.005, 0.01),
    "quality": (0.002, 0.03),
}
# The budgets of the bands with tools (presets.TOOL_PRESETS). For balanced, 1.5% of complex
# turns decided small keeps recall on left-out turns with tools at 97.1% while 82.1% of simple
# ones go small without the classifier (67.4% at 0.5%; 1.75% gives 84.2% but 96.9% recall). A
# tool loop's complex turns are few and its simple ones many: the tighter budget of plain chat
# sends most agent turns to the classifier.
BUDGETS_WITH_TOOLS: dict[str, tuple[float, float]] = {**BUDGETS, "balanced": (0.015, 0.01)}
# Candidate budgets for balanced's bands without tools, compared by leaving datasets out.
PLAIN_BUDGETS: tuple[tuple[float, float], ...] = (
    (0.0025, 0.01),
    (0.00375, 0.01),
    (0.005, 0.01),
    (0.01, 0.01),
    (0.005, 0.02),
)
# Candidate budgets for balanced's bands with tools, compared by leaving datasets out.
TOOL_BUDGETS: tuple[tuple[float, float], ...] = (
    (0.005, 0.01),
    (0.01, 0.01),
    (0.015, 0.01),
    (0.0175, 0.01),
    (0.02, 0.01),
    (0.025, 0.01),
    (0.03, 0.01),
    (0.02, 0.02),
)


@dataclass(frozen=True, slots=True)
class Data:
    traffic: list[Prompt]
    quality: list[Prompt]
    x_traffic: sp.csr_matrix
    x_quality: sp.csr_matrix
    is_complex: np.ndarray
    strong_wins: np.ndarray


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def fit(x: sp.spmatrix, y: np.ndarray, c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=5000).fit(x, y)


def gain_training(data: Data, quality_rows: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """Measured answers only: the gain head just orders requests already judged complex."""
    return data.x_quality[quality_rows], data.strong_wins[quality_rows]


def folds(data: Data) -> list[tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]]:
    """Paired (traffic, quality) train/test folds, stratified by source and outcome."""
    strata_t = [f"{p.source}/{p.label}" for p in data.traffic]
    strata_q = [f"{p.source}/{w}" for p, w in zip(data.quality, data.strong_wins, strict=True)]
    split = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
    return list(zip(split.split(strata_t, strata_t), split.split(strata_q, strata_q), strict=True))


def out_of_fold(data: Data, head_name: str, c: float) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold logits of one head, for the traffic and for the quality prompts."""
    on_traffic = np.zeros(len(data.traffic))
    on_quality = np.zeros(len(data.quality))
    for (train_t, test_t), (train_q, test_q) in folds(data):
        if head_name == "need":
            lr = fit(data.x_traffic[train_t], data.is_complex[train_t], c)
        else:
            lr = fit(*gain_training(data, train_q), c)
        on_traffic[test_t] = lr.decision_function(data.x_traffic[test_t])
        on_quality[test_q] = lr.decision_function(data.x_quality[test_q])
    return on_traffic, on_quality


def mean_apgr(prompts: Sequence[Prompt], scores: np.ndarray) -> float:
    """Mean over sources of the area under the quality curve (each source weighs the same)."""
    values = []
    for source in sorted({p.source for p in prompts}):
        rows = [i for i, p in enumerate(prompts) if p.source == source]
        c = quality.curve(
            [float(scores[i]) for i in rows],
            [prompts[i].weak or 0.0 for i in rows],
            [prompts[i].strong or 0.0 for i in rows],
        )
        values.append(quality.apgr(c))
    return float(np.mean(values))


def platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    lr = LogisticRegression(C=1e4, max_iter=5000).fit(z.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def with_rules(prompts: Sequence[Prompt], p: np.ndarray) -> np.ndarray:
    """Apply the product rules, as score_request does."""
    out = p.copy()
    for i, prompt in enumerate(prompts):
        view = view_request(prompt.messages, prompt.tools)
        rule = rules.bound(view, request_features(view)[0])
        if rule is not None:
            out[i] = rule.apply(float(p[i]))
    return out


def support(x: sp.csr_matrix) -> model.Support:
    """How many requests of a design matrix fall in each band of each agent-turn signal."""
    counts: dict[str, tuple[int, ...]] = {}
    for name in TURN_SIGNALS:
        column = x[:, ALL_SIGNALS.index(name)].toarray().ravel()
        bands = np.minimum((column / SUPPORT_BIN_WIDTH).astype(int), SUPPORT_BINS - 1)
        counts[name] = tuple(int(c) for c in np.bincount(bands, minlength=SUPPORT_BINS))
    return model.Support(SUPPORT_BIN_WIDTH, SUPPORT_MIN_ROWS, counts)


def head(lr: LogisticRegression) -> model.Head:
    weights = lr.coef_[0]
    dense = {name: round(float(weights[j]), WEIGHT_DIGITS) for j, name in enumerate(MODEL_INPUTS)}
    hashed: dict[int, float] = {}
    for bucket, w in enumerate(weights[len(MODEL_INPUTS) :]):
        rounded = round(float(w), WEIGHT_DIGITS - 1)
        if rounded:
            hashed[bucket] = rounded
    return model.Head(round(float(lr.intercept_[0]), WEIGHT_DIGITS), dense, hashed)


@dataclass(frozen=True, slots=True)
class Trained:
    model: model.ScorerModel
    presets: dict[str, Thresholds]  # requests without tools
    tool_presets: dict[str, Thresholds]  # requests that offer tools


def train(
    traffic: Sequence[Prompt], qual: Sequence[Prompt], log: Callable[[str], None] = print
) -> Trained:
    """The whole procedure on one tune split: choose, calibrate, fit, pick the presets."""
    # MT-Bench has a handful of prompts per stratum; the folds cope
    warnings.filterwarnings("ignore", message="The least populated class")
    log(f"tune split: {len(traffic)} traffic prompts, {len(qual)} quality prompts")
    data = Data(
        traffic=list(traffic),
        quality=list(qual),
        x_traffic=design_matrix(traffic),
        x_quality=design_matrix(qual),
        is_complex=np.array([p.is_complex for p in traffic]),
        strong_wins=np.array([(p.strong or 0.0) > (p.weak or 0.0) for p in qual]),
    )
    y = data.is_complex

    # 1. regularisation of each head, on out-of-fold scores
    need_oof = {c: out_of_fold(data, "need", c) for c in NEED_C}
    gain_oof = {c: out_of_fold(data, "gain", c) for c in GAIN_C}
    for c, (zt, _) in need_oof.items():
        log(f"  need C={c}: traffic log-loss {log_loss(y, sigmoid(zt)):.4f}")
    for c, (_, zq) in gain_oof.items():
        log(f"  gain C={c}: quality APGR {mean_apgr(qual, zq):.3f}")
    need_c = min(NEED_C, key=lambda c: log_loss(y, sigmoid(need_oof[c][0])))
    gain_c = max(GAIN_C, key=lambda c: mean_apgr(qual, gain_oof[c][1]))
    (need_t, need_q), (gain_t, gain_q) = need_oof[need_c], gain_oof[gain_c]
    log(f"chosen: need C={need_c}, gain C={gain_c}")

    # 2. the blend: best quality-track order whose traffic calibration stays close to need alone
    def blended(cap: float, weight: float, zn: np.ndarray, zg: np.ndarray) -> np.ndarray:
        return np.where(zn < cap, zn, cap + weight * sigmoid(zg))  # as model.Blend

    base_scale, base_offset = platt(need_t, y)
    base_p = sigmoid(base_scale * need_t + base_offset)
    base_brier = float(np.mean((base_p - y) ** 2))
    choice = (math.inf, 0.0, base_scale, base_offset, mean_apgr(qual, need_q))
    for cap in NEED_CAPS:
        for weight in GAIN_WEIGHTS:
            z = blended(cap, weight, need_t, gain_t)
            scale, offset = platt(z, y)
            p = sigmoid(scale * z + offset)
            brier = float(np.mean((p - y) ** 2))
            apgr = mean_apgr(qual, blended(cap, weight, need_q, gain_q))
            log(f"  cap {cap} gain weight {weight}: traffic Brier {brier:.4f}, APGR {apgr:.3f}")
            if brier <= BRIER_SLACK * base_brier and apgr > choice[4]:
                choice = (cap, weight, scale, offset, apgr)
    cap, weight, scale, offset, apgr = choice
    log(f"chosen blend: need cap {cap}, gain weight {weight} (quality APGR {apgr:.3f})")

    # 3. presets, on out-of-fold probabilities with the rules applied: one set for requests
    # without tools, one for those that offer tools (presets.TOOL_PRESETS), each population
    # held to the same budgets
    p_oof = with_rules(traffic, sigmoid(scale * blended(cap, weight, need_t, gain_t) + offset))
    has_tools = np.array([p.has_tools for p in traffic])
    presets = choose_presets(p_oof[~has_tools], y[~has_tools], "without tools", log)
    tool_presets = choose_presets(
        p_oof[has_tools], y[has_tools], "with tools", log, BUDGETS_WITH_TOOLS
    )

    # 4. the shipped heads, on the whole tune split
    need_head = head(fit(data.x_traffic, y, need_c))
    gain_head = head(fit(*gain_training(data, np.arange(len(qual))), gain_c))
    x_dense = data.x_traffic[:, : len(MODEL_INPUTS)].toarray()
    means = {
        name: round(float(x_dense[:, j].mean()), WEIGHT_DIGITS)
        for j, name in enumerate(MODEL_INPUTS)
    }
    trained = model.ScorerModel(
        hash_bits=HASH_BITS,
        need=need_head,
        gain=gain_head,
        blend=model.Blend(
            need_cap=cap if math.isfinite(cap) else 1e9,
            gain_weight=weight,
            scale=round(scale, WEIGHT_DIGITS),
            offset=round(offset, WEIGHT_DIGITS),
        ),
        signal_means=means,
        support=support(data.x_traffic),
    )
    return Trained(trained, presets, tool_presets)


def choose_presets(
    p: np.ndarray,
    y: np.ndarray,
    population: str,
    log: Callable[[str], None],
    budgets: dict[str, tuple[float, float]] = BUDGETS,
) -> dict[str, Thresholds]:
    """Each preset's bands from its error budgets, on out-of-fold scores of one population."""
    presets: dict[str, Thresholds] = {}
    for name, (complex_to_small, simple_to_large) in budgets.items():
        presets[name] = t = thresholds.choose(
            p.tolist(),
            y.tolist(),
            complex_to_small=complex_to_small,
            simple_to_large=simple_to_large,
        )
        local = [t.decide(float(x)) for x in p]
        simple_small = np.mean([d == "small" for d, c in zip(local, y, strict=True) if not c])
        complex_large = np.mean([d != "small" for d, c in zip(local, y, strict=True) if c])
        decided = np.mean([d != "abstain" for d in local])
        log(
            f"  preset {name} {population}: {t}; out-of-fold, abstentions to large: simple to "
            f"small {simple_small:.3f}, complex recall {complex_large:.3f}, "
            f"decided locally {decided:.3f}"
        )
    return presets


def tune_traffic(bench_dir: Path, agent_dir: Path, salt: str = "") -> list[Prompt]:
    """What the need head trains on: both benchmarks' tune rows, tool lists on a third of the
    tool-less ones (bench/routing/augment.py)."""
    routing = load(bench_dir / "traffic.jsonl", "tune", salt)
    agent = load_agent(agent_dir, "tune", salt)
    return with_tool_lists([*routing, *agent])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench-dir", type=Path, default=DEFAULT_BENCH_DIR)
    parser.add_argument("--agent-dir", type=Path, default=DEFAULT_AGENT_DIR)
    parser.add_argument("--out", type=Path, default=model.ARTIFACT)
    args = parser.parse_args()

    trained = train(
        tune_traffic(args.bench_dir, args.agent_dir), load(args.bench_dir / "quality.jsonl", "tune")
    )
    args.out.write_text(json.dumps(trained.model.to_dict(), separators=(",", ":")) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    for title, presets in (("PRESETS", trained.presets), ("TOOL_PRESETS", trained.tool_presets)):
        print(f"{title} for shared/routing/presets.py:")
        for name, t in presets.items():
            print(f'    "{name}": Thresholds({t.small_below}, {t.large_at_or_above}),')


if __name__ == "__main__":
    main()
