from __future__ import annotations

import math

from bench.routing.traffic import Routed, by_source, meets_bar, percentile, summarize


def r(source: str, is_complex: bool, tier: str, local: bool = True) -> Routed:
    return Routed(source, is_complex, tier, local)  # type: ignore[arg-type]


ROUTED = [
    r("faq", False, "small"),
    r("faq", False, "small"),
    r("faq", False, "large", local=False),
    r("math", True, "large"),
    r("math", True, "small", local=False),
]


def test_summary_counts() -> None:
    s = summarize(ROUTED)
    assert (s.n, s.n_simple, s.n_complex) == (5, 3, 2)
    assert s.small_share == 3 / 5
    assert s.simple_to_small == 2 / 3
    assert s.complex_recall == 1 / 2
    assert s.complex_precision == 1 / 2
    assert s.local_share == 3 / 5


def test_per_source_and_all() -> None:
    rows = by_source(ROUTED)
    assert list(rows) == ["faq", "math", "all"]
    assert math.isnan(rows["faq"].complex_recall)  # no complex prompts there
    assert rows["math"].complex_precision == 1.0


def test_bar() -> None:
    good = [r("faq", False, "small")] * 9 + [r("math", True, "large")] * 40
    assert meets_bar(summarize(good))
    assert not meets_bar(summarize([*good, *[r("math", True, "small")] * 2]))  # 40/42 < 0.97
    assert meets_bar(summarize([*good, r("faq", False, "large")]))  # 9 of 10 simple: 90%
    assert not meets_bar(summarize([*good, *[r("faq", False, "large")] * 2]))  # 9 of 11
    assert not meets_bar(summarize([r(s.source, s.is_complex, s.tier, False) for s in good]))


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert math.isnan(percentile([], 50))
