"""Quality track: the cost-quality curve of a score-threshold router, after RouteLLM.

A router that sends the prompts with the highest scores to the strong model, a share `c` of
them, gets quality(c) = mean(strong if routed strong else weak). Sweeping the threshold traces
the curve from all-weak (c = 0) to all-strong (c = 1). Summaries:
- PGR(c), performance gap recovered: (quality(c) - all_weak) / (all_strong - all_weak);
- CPT(x): the smallest c whose PGR reaches x (a random router needs c = x);
- APGR: the area under PGR(c) over c in [0, 1] (random 0.5);
- Q(x): the smallest c whose quality reaches x times all-strong quality (the benchmark
  README's Q95, the sense of RouteLLM's "95% of GPT-4 quality").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True, slots=True)
class Curve:
    """Achievable (share to strong, mean quality) points, from c = 0 to c = 1."""

    shares: tuple[float, ...]
    qualities: tuple[float, ...]

    @property
    def all_weak(self) -> float:
        return self.qualities[0]

    @property
    def all_strong(self) -> float:
        return self.qualities[-1]


def curve(scores: Sequence[float], weak: Sequence[float], strong: Sequence[float]) -> Curve:
    """The curve of "strong if score >= threshold" over every threshold.

    Prompts with equal scores move together, as no threshold can split them.
    """
    n = len(scores)
    if n == 0 or len(weak) != n or len(strong) != n:
        raise ValueError("scores, weak and strong must be non-empty and of one length")
    order = sorted(range(n), key=lambda i: -scores[i])
    total = sum(weak)
    shares = [0.0]
    qualities = [total / n]
    for rank, i in enumerate(order):
        total += strong[i] - weak[i]
        last = rank == n - 1
        if last or scores[order[rank + 1]] != scores[i]:
            shares.append((rank + 1) / n)
            qualities.append(total / n)
    return Curve(tuple(shares), tuple(qualities))


def oracle_curve(weak: Sequence[float], strong: Sequence[float]) -> Curve:
    """The best possible router: strong first where it gains most over weak."""
    gains = [s - w for w, s in zip(weak, strong, strict=True)]
    # distinct ranks, so that equal gains still come one at a time (an oracle can split them)
    ranked = sorted(range(len(gains)), key=lambda i: -gains[i])
    scores = [0.0] * len(gains)
    for rank, i in enumerate(ranked):
        scores[i] = float(len(gains) - rank)
    return curve(scores, weak, strong)


def pgr(c: Curve, quality: float) -> float:
    gap = c.all_strong - c.all_weak
    return 0.0 if gap <= 0 else (quality - c.all_weak) / gap


def cpt(c: Curve, recovered: float) -> float:
    """Call-performance threshold: smallest share to strong recovering `recovered` of the gap."""
    for share, quality in zip(c.shares, c.qualities, strict=True):
        if pgr(c, quality) >= recovered - 1e-12:
            return share
    return 1.0


def share_for_quality(c: Curve, fraction_of_strong: float) -> float:
    """Smallest share to strong whose quality reaches `fraction_of_strong` x all-strong."""
    target = fraction_of_strong * c.all_strong
    for share, quality in zip(c.shares, c.qualities, strict=True):
        if quality >= target - 1e-12:
            return share
    return 1.0


def apgr(c: Curve) -> float:
    """Area under PGR(c) for c in [0, 1], trapezoids between achievable points."""
    area = 0.0
    points = list(zip(c.shares, c.qualities, strict=True))
    for (c0, q0), (c1, q1) in pairwise(points):
        area += (c1 - c0) * (pgr(c, q0) + pgr(c, q1)) / 2
    return area


@dataclass(frozen=True, slots=True)
class QualitySummary:
    n: int
    all_weak: float
    all_strong: float
    cpt50: float
    cpt80: float
    cpt95: float
    q95: float
    apgr: float


def summarize(c: Curve, n: int) -> QualitySummary:
    return QualitySummary(
        n=n,
        all_weak=c.all_weak,
        all_strong=c.all_strong,
        cpt50=cpt(c, 0.5),
        cpt80=cpt(c, 0.8),
        cpt95=cpt(c, 0.95),
        q95=share_for_quality(c, 0.95),
        apgr=apgr(c),
    )


def random_summary(c: Curve, n: int) -> QualitySummary:
    """The expected random router: quality linear in c between all-weak and all-strong."""
    weak, strong = c.all_weak, c.all_strong
    q95 = 0.0 if weak >= 0.95 * strong else (0.95 * strong - weak) / (strong - weak)
    return QualitySummary(n, weak, strong, 0.5, 0.8, 0.95, min(1.0, q95), 0.5)
