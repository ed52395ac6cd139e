from __future__ import annotations

from bench.common.rounds import medians
from bench.common.wrk import LoadResult


def run(requests: int, p50: float, errors: int = 0) -> LoadResult:
    return LoadResult(requests, 1.0, errors, p50, p50 * 2, p50 * 3)


def test_medians_take_each_figure_over_the_rounds_and_sum_the_errors() -> None:
    m = medians([(run(100, 1.0), 0.5), (run(300, 9.0, errors=2), 0.7), (run(200, 2.0, 1), 0.6)])
    assert (m.rps, m.p50_ms, m.p99_ms, m.cpu_ms, m.errors) == (200.0, 2.0, 6.0, 0.6, 3)
