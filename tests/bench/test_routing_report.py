"""The routing report's derived lines (bench/routing/report.py)."""

from __future__ import annotations

from bench.routing.report import started_early
from bench.routing.traffic import Routed, Tier, summarize


def routed(tier: Tier, local: bool, is_complex: bool = False) -> Routed:
    return Routed("src", is_complex, tier, local)


def test_started_early_splits_the_classifiers_turns_by_its_verdict() -> None:
    # ten turns: six decided locally, four asked; of those, one complex verdict
    local = [routed("small", True)] * 5 + [routed("large", True, True)]
    by_rule = {
        "to large": summarize(local + [routed("large", False)] * 4),
        "emulator classifier": summarize(
            local + [routed("small", False)] * 3 + [routed("large", False, True)]
        ),
        "to small": summarize(local + [routed("small", False)] * 4),
    }
    line = started_early({rule: {"all": s} for rule, s in by_rule.items()}, "all")
    assert line == (
        "40.0% reach the classifier: 30.0% answered by the call started beside it, 10.0% drop it"
    )
