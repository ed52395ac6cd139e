"""The cost-quality curves as one PNG: a panel per source, scorer beside random and oracle."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from bench.routing.quality import Curve


def plot_curves(panels: Mapping[str, Mapping[str, Curve]], path: Path, title: str) -> None:
    """panels: source -> {"scorer": curve, "oracle": curve}; random is drawn from the ends."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for ax, (source, curves) in zip(axes[0], panels.items(), strict=True):
        oracle = curves["oracle"]
        ax.plot(oracle.shares, oracle.qualities, color="tab:green", label="oracle", lw=1.2)
        scorer = curves["scorer"]
        ax.plot(scorer.shares, scorer.qualities, color="tab:blue", label="local scorer", lw=1.6)
        ax.plot(
            [0, 1],
            [scorer.all_weak, scorer.all_strong],
            color="grey",
            ls="--",
            label="random",
            lw=1.0,
        )
        ax.axhline(
            scorer.all_weak + 0.95 * (scorer.all_strong - scorer.all_weak),
            color="tab:red",
            ls=":",
            lw=0.8,
            label="95% of the gap",
        )
        ax.set_title(f"{source} (n={_n(curves)})", fontsize=10)
        ax.set_xlabel("share sent to the strong model")
        ax.set_xlim(0, 1)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("mean quality")
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _n(curves: Mapping[str, Curve]) -> int:
    # the oracle never ties, so its points count the prompts (plus the c = 0 point)
    return len(curves["oracle"].shares) - 1
