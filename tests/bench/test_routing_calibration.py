from __future__ import annotations

import pytest

from bench.routing.calibration import brier, expected_calibration_error, reliability


def test_brier() -> None:
    assert brier([1.0, 0.0], [True, False]) == 0.0
    assert brier([0.0, 1.0], [True, False]) == 1.0
    assert brier([0.5, 0.5], [True, False]) == 0.25


def test_brier_refuses_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match="one length"):
        brier([0.5], [True, False])


def test_reliability_bins() -> None:
    p = [0.02, 0.04, 0.6, 0.65, 1.0]
    y = [False, False, True, False, True]
    bins = reliability(p, y, edges=(0.0, 0.5, 1.0))
    assert [(b.n, b.observed) for b in bins] == [(2, 0.0), (3, 2 / 3)]
    assert bins[0].mean_p == pytest.approx(0.03)
    assert bins[1].high == 1.0  # 1.0 itself lands in the last bin


def test_ece_weighs_bins_by_size() -> None:
    bins = reliability([0.1, 0.1, 0.9], [False, False, True], edges=(0.0, 0.5, 1.0))
    assert expected_calibration_error(bins) == pytest.approx((2 * 0.1 + 1 * 0.1) / 3)
