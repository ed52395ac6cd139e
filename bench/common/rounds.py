"""Interleaved rounds: every router at every concurrency in turn, round after round, so that the
shared machine's drift during a run falls on all of them alike (compare within one run only)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.common import procs, wrk
from bench.common.stats import median

Sample = tuple[wrk.LoadResult, float]  # wrk's result, and the router's CPU ms per request


@dataclass(frozen=True, slots=True)
class Medians:
    """One router at one concurrency, over its rounds: medians, and errors summed."""

    p50_ms: float
    p99_ms: float
    rps: float
    cpu_ms: float
    errors: int


def medians(runs: Sequence[Sample]) -> Medians:
    return Medians(
        p50_ms=median([r.p50_ms for r, _ in runs]),
        p99_ms=median([r.p99_ms for r, _ in runs]),
        rps=median([r.rps for r, _ in runs]),
        cpu_ms=median([m for _, m in runs]),
        errors=sum(r.errors for r, _ in runs),
    )


def interleaved(
    routers: Mapping[str, procs.Proc],
    path: str,
    body: bytes,
    *,
    concurrency: Sequence[int],
    rounds: int,
    seconds: float,
    cpu: Sequence[int] | None,
) -> tuple[dict[tuple[str, int], list[Sample]], dict[str, int]]:
    """A warm-up, then `rounds` rounds; the samples per (router, concurrency) and the number of
    requests each router was sent in all (warm-up included)."""
    samples: dict[tuple[str, int], list[Sample]] = defaultdict(list)
    sent: dict[str, int] = defaultdict(int)
    for label, router in routers.items():
        warm = wrk.run(router.url + path, body, connections=32, seconds=1, cpu=cpu)
        sent[label] += warm.requests
    for _ in range(rounds):
        for c in concurrency:
            for label, router in routers.items():
                before = router.cpu_s()
                result = wrk.run(router.url + path, body, connections=c, seconds=seconds, cpu=cpu)
                samples[label, c].append(
                    (result, (router.cpu_s() - before) * 1000 / max(1, result.requests))
                )
                sent[label] += result.requests
    return samples, sent
