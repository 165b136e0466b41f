"""PSI: the index reads 0 for the same distribution and grows with the shift."""

import numpy as np
import pandas as pd
import pytest

from monitoring.psi import psi, psi_band, psi_categorical, psi_numeric, quantile_edges


def test_identical_distribution_is_zero():
    x = np.random.default_rng(0).normal(size=5000)
    assert psi_numeric(x, x) == pytest.approx(0.0, abs=1e-12)


def test_samples_of_one_distribution_are_stable():
    rng = np.random.default_rng(1)
    assert psi_numeric(rng.normal(size=5000), rng.normal(size=5000)) < 0.02


def test_known_value_for_two_bins():
    # Reference split 50/50 at its median; current 80/20: PSI = 0.3*ln(0.8/0.5) + (-0.3)*ln(0.2/0.5).
    ref = np.array([0.0] * 50 + [1.0] * 50)
    cur = np.array([0.0] * 80 + [1.0] * 20)
    expected = 0.3 * np.log(0.8 / 0.5) - 0.3 * np.log(0.2 / 0.5)
    assert psi_numeric(ref, cur, bins=2) == pytest.approx(expected, rel=1e-9)


def test_grows_with_the_shift_and_bands():
    rng = np.random.default_rng(2)
    ref = rng.normal(size=5000)
    values = [psi_numeric(ref, rng.normal(loc=s, size=5000)) for s in (0.0, 0.3, 0.6, 1.5)]
    assert values == sorted(values)
    assert [psi_band(v) for v in values] == ["stable", "watch", "act", "act"]


def test_unit_error_is_far_out():
    rng = np.random.default_rng(3)
    income = rng.lognormal(9.5, 0.6, 4000)
    assert psi_numeric(income, income / 10_000) > 5


def test_zero_inflated_counts_keep_the_zero_mass_in_one_bin():
    ref = np.r_[np.zeros(900), np.ones(80), np.full(20, 2.0)]
    assert quantile_edges(ref)[0] == 0.0  # the zero mass is one bin, whatever the others are
    assert psi_numeric(ref, ref.copy()) == pytest.approx(0.0, abs=1e-12)
    more_events = np.r_[np.zeros(600), np.ones(300), np.full(100, 2.0)]
    assert psi_numeric(ref, more_events) > 0.25


def test_missing_values_are_a_bin():
    ref = np.arange(1000, dtype=float)
    cur = ref.copy()
    cur[:300] = np.nan
    assert psi_numeric(ref, cur) > 0.25


def test_categorical_new_value_and_dispatch():
    ref = pd.Series(["a"] * 50 + ["b"] * 50)
    assert psi_categorical(ref, ref) == pytest.approx(0.0, abs=1e-12)
    assert psi(ref, pd.Series(["a"] * 50 + ["c"] * 50)) > 1
    assert psi(pd.Series([True, False] * 50), pd.Series([True] * 100)) > 0.25


def test_empty_side_is_nan_and_unknown():
    assert np.isnan(psi_numeric([], [1.0]))
    assert psi_band(float("nan")) == "unknown"
