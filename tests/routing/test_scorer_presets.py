from __future__ import annotations

import pytest

from shared.routing import rules
from shared.routing.presets import DEFAULT_PRESET, MODES, PRESETS, TOOL_PRESETS, Thresholds


def test_presets_are_the_three_modes_and_the_classifier() -> None:
    assert set(MODES) == {"cost", "balanced", "quality"}
    assert set(PRESETS) == {*MODES, "classifier"}
    assert DEFAULT_PRESET == "balanced"


def test_classifier_preset_never_decides_locally() -> None:
    for p in (0.0, 0.5, 1.0):
        assert PRESETS["classifier"].decide(p) == "abstain"


def test_cost_decides_small_more_readily_than_quality() -> None:
    assert PRESETS["cost"].small_below >= PRESETS["balanced"].small_below
    assert PRESETS["balanced"].small_below >= PRESETS["quality"].small_below
    assert PRESETS["cost"].large_at_or_above >= PRESETS["quality"].large_at_or_above


def test_decide_bands() -> None:
    t = Thresholds(small_below=0.2, large_at_or_above=0.6)
    assert t.decide(0.0) == "small"
    assert t.decide(0.1999) == "small"
    assert t.decide(0.2) == "abstain"
    assert t.decide(0.5999) == "abstain"
    assert t.decide(0.6) == "large"
    assert t.decide(1.0) == "large"


def test_no_band_when_thresholds_meet() -> None:
    t = Thresholds(small_below=0.5, large_at_or_above=0.5)
    assert t.decide(0.4999) == "small"
    assert t.decide(0.5) == "large"


@pytest.mark.parametrize(("small", "large"), [(0.6, 0.5), (-0.1, 0.5), (1.1, 1.2)])
def test_inconsistent_thresholds_are_refused(small: float, large: float) -> None:
    with pytest.raises(ValueError, match="small_below"):
        Thresholds(small_below=small, large_at_or_above=large)


def test_rules_decide_locally_under_every_mode() -> None:
    for t in [PRESETS[m] for m in MODES] + [TOOL_PRESETS[m] for m in MODES]:
        assert t.decide(rules.SOFT_FLOOR) == "large"
        assert t.decide(rules.HARD_FLOOR) == "large"
        assert t.decide(rules.SMALL_TALK_CEILING) == "small"
