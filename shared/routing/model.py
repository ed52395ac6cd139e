"""The learned part of the local scorer: two linear heads over shared features, pure Python.

- need: P(the request is of the `complex` kind), trained on labelled traffic;
- gain: P(the strong model answers better than the weak one), trained on measured answers.
Below `need_cap` the need logit alone decides, so simple-vs-complex calls never depend on the
gain head; above it, a request is surely complex and its expected gain orders it among the
other sure ones (the cost-quality curve): z = need_cap + gain_weight * sigmoid(z_gain).
Then p = sigmoid(scale * z + offset), recalibrated on out-of-fold traffic scores.
`support` says how many training requests fell in each band of each agent-turn signal, so a
request unlike any seen in training can be recognised and left to the classifier.
The weights come from bench/train_scorer.py as a small JSON artifact, read once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from shared.routing.features import Terms, word_buckets

ARTIFACT = Path(__file__).with_name("scorer_model.json")
WORD_CACHE_SIZE = 50_000


class Logits(NamedTuple):
    need: float
    gain: float
    need_wording: float  # the part of `need` that the hashed terms contribute


@dataclass(frozen=True, slots=True)
class Head:
    bias: float
    dense: Mapping[str, float]  # weight per named signal
    hashed: Mapping[int, float]  # weight per bucket; absent buckets weigh 0

    def logit(self, signals: Mapping[str, float], buckets: set[int]) -> float:
        z = self.bias
        for name, value in signals.items():
            z += self.dense.get(name, 0.0) * value
        hashed = self.hashed
        for bucket in buckets:
            z += hashed.get(bucket, 0.0)
        return z


@dataclass(frozen=True, slots=True)
class Blend:
    need_cap: float
    gain_weight: float
    scale: float
    offset: float

    def probability(self, z_need: float, z_gain: float) -> float:
        z = (
            z_need
            if z_need < self.need_cap
            else self.need_cap + self.gain_weight * _sigmoid(z_gain)
        )
        return _sigmoid(self.scale * z + self.offset)


def _sigmoid(z: float) -> float:
    if z >= 0:  # the two branches keep exp() from overflowing
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass(frozen=True, slots=True)
class Support:
    """Training requests per band of width `bin_width` of each signal (the last band is open).

    A value outside the range of well-populated bands is unfamiliar: a linear model
    interpolates between what it saw and extrapolates badly beyond it (33 tools when it saw at
    most 16). The scorer then reads the value at the edge of the range (`clamped`) where that is
    the more cautious reading, and otherwise leaves the request to the classifier."""

    bin_width: float
    min_rows: int  # a band needs this many training requests to count as seen
    counts: Mapping[str, tuple[int, ...]]

    def band(self, name: str, value: float) -> int:
        return min(int(value / self.bin_width), len(self.counts[name]) - 1)

    def seen_range(self, name: str) -> tuple[int, int]:
        seen = [i for i, n in enumerate(self.counts[name]) if n >= self.min_rows] or [0]
        return seen[0], seen[-1]

    def clamped(self, signals: Mapping[str, float]) -> dict[str, float]:
        """The signals with every tracked one pulled into the range training saw."""
        out = dict(signals)
        for name in self.counts:
            low, high = self.seen_range(name)
            top = (high + 1) * self.bin_width - 1e-9  # just inside the last seen band
            out[name] = min(max(out[name], low * self.bin_width), top)
        return out

    def unfamiliar(self, signals: Mapping[str, float]) -> str | None:
        """The first signal whose value lies beyond the range training saw, or None."""
        for name in self.counts:
            low, high = self.seen_range(name)
            if not low <= self.band(name, signals[name]) <= high:
                return name
        return None


@dataclass(frozen=True, slots=True)
class ScorerModel:
    hash_bits: int
    need: Head
    gain: Head
    blend: Blend
    signal_means: Mapping[str, float]  # centre for attributing a score to signals
    support: Support | None = None
    # both heads' weights per bucket, so scoring reads each bucket once
    _paired: dict[int, tuple[float, float]] = field(default_factory=dict, repr=False, compare=False)
    # both heads' summed weights per word (its own and its n-grams' buckets): words recur
    _per_word: dict[str, tuple[float, float]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not self._paired:
            self._paired.update(
                (b, (self.need.hashed.get(b, 0.0), self.gain.hashed.get(b, 0.0)))
                for b in set(self.need.hashed) | set(self.gain.hashed)
            )

    def _word_weights(self, word: str) -> tuple[float, float]:
        cached = self._per_word.get(word)
        if cached is None:
            need = gain = 0.0
            for bucket in word_buckets(word):
                pair = self._paired.get(bucket)
                if pair is not None:
                    need += pair[0]
                    gain += pair[1]
            if len(self._per_word) >= WORD_CACHE_SIZE:  # bounded: odd inputs can't grow it
                self._per_word.clear()
            cached = self._per_word[word] = (need, gain)
        return cached

    def logits(
        self, signals: Mapping[str, float], terms: Terms, wording_weight: float = 1.0
    ) -> Logits:
        """Both heads' logits: bias + named signals + every distinct term's buckets, the need
        head's term part scaled by `wording_weight` (features.wording_weight)."""
        z_need, z_gain = self.need.bias, self.gain.bias
        need_dense, gain_dense = self.need.dense, self.gain.dense
        for name, value in signals.items():
            if value:
                z_need += need_dense[name] * value
                z_gain += gain_dense[name] * value
        wording = 0.0
        for word in terms.words:
            need, gain = self._word_weights(word)
            wording += need
            z_gain += gain
        paired = self._paired
        for bucket in terms.bigrams:
            pair = paired.get(bucket)
            if pair is not None:
                wording += pair[0]
                z_gain += pair[1]
        wording *= wording_weight
        return Logits(z_need + wording, z_gain, wording)

    def probability(self, logits: Logits) -> float:
        return self.blend.probability(logits.need, logits.gain)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScorerModel:
        names: list[str] = list(data["signals"])
        need_hashed: dict[int, float] = {}
        gain_hashed: dict[int, float] = {}
        for bucket, w_need, w_gain in data["buckets"]:
            if w_need:
                need_hashed[int(bucket)] = float(w_need)
            if w_gain:
                gain_hashed[int(bucket)] = float(w_gain)
        return cls(
            hash_bits=int(data["hash_bits"]),
            need=Head(
                float(data["need"]["bias"]),
                dict(zip(names, data["need"]["dense"], strict=True)),
                need_hashed,
            ),
            gain=Head(
                float(data["gain"]["bias"]),
                dict(zip(names, data["gain"]["dense"], strict=True)),
                gain_hashed,
            ),
            blend=Blend(**{k: float(v) for k, v in data["blend"].items()}),
            signal_means=dict(zip(names, data["signal_means"], strict=True)),
            support=None
            if data.get("support") is None
            else Support(
                float(data["support"]["bin_width"]),
                int(data["support"]["min_rows"]),
                {k: tuple(int(c) for c in v) for k, v in data["support"]["counts"].items()},
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        names = list(self.signal_means)
        buckets = sorted(set(self.need.hashed) | set(self.gain.hashed))
        return {
            "format": "hybrid-router scorer v1",
            "hash_bits": self.hash_bits,
            "signals": names,
            "signal_means": [self.signal_means[n] for n in names],
            "need": {"bias": self.need.bias, "dense": [self.need.dense[n] for n in names]},
            "gain": {"bias": self.gain.bias, "dense": [self.gain.dense[n] for n in names]},
            "blend": {
                "need_cap": self.blend.need_cap,
                "gain_weight": self.blend.gain_weight,
                "scale": self.blend.scale,
                "offset": self.blend.offset,
            },
            "support": None
            if self.support is None
            else {
                "bin_width": self.support.bin_width,
                "min_rows": self.support.min_rows,
                "counts": {k: list(v) for k, v in self.support.counts.items()},
            },
            "buckets": [
                [b, self.need.hashed.get(b, 0.0), self.gain.hashed.get(b, 0.0)] for b in buckets
            ],
        }


def load(path: Path = ARTIFACT) -> ScorerModel:
    with path.open(encoding="utf-8") as handle:
        return ScorerModel.from_dict(json.load(handle))
