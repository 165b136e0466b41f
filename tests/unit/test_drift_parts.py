"""The drift monitor's small parts: the stratified sample, its bound, the week's tables."""

import numpy as np
import pandas as pd
import pytest

from monitoring.current import overlay_export, week_cutoff
from monitoring.sample import dkw_epsilon, share_half_width, stratified_sample
from tests.tables import _typed, household, member, tiny_tables


def test_stratified_sample_keeps_township_shares():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"township": rng.choice(["a", "b", "c"], p=[0.6, 0.3, 0.1], size=20000),
                          "x": rng.normal(size=20000)})
    sample = stratified_sample(frame, size=5000, seed=1)
    assert len(sample) == 5000 and sample.index.is_unique
    full = frame["township"].value_counts(normalize=True)
    part = sample["township"].value_counts(normalize=True)
    assert (part - full).abs().max() < 1 / 5000 * 3  # proportional up to rounding
    assert stratified_sample(frame.head(100), size=5000) is not None
    assert len(stratified_sample(frame.head(100), size=5000)) == 100


def test_sample_bounds():
    assert dkw_epsilon(5000) == pytest.approx(0.0192, abs=1e-4)
    assert share_half_width(5000) == pytest.approx(0.01386, abs=1e-4)
    # The DKW bound holds empirically: the worst CDF error of 5,000-row samples stays below it.
    rng = np.random.default_rng(2)
    population = np.sort(rng.lognormal(9, 1, 20000))
    errors = []
    for _ in range(40):
        s = np.sort(rng.choice(population, 5000, replace=False))
        grid = population[::50]
        errors.append(np.max(np.abs(np.searchsorted(s, grid, "right") / 5000
                                    - np.searchsorted(population, grid, "right") / 20000)))
    assert max(errors) < dkw_epsilon(5000)


def test_week_cutoff_is_the_sunday():
    assert week_cutoff("2025-W49") == pd.Timestamp("2025-12-07")
    with pytest.raises(ValueError):
        week_cutoff("2025-49")


def test_export_rows_win_and_future_valid_from_is_current():
    history = tiny_tables()
    cutoff = pd.Timestamp("2025-12-07")
    moved = household("H1", land_mu=9.0, valid_from="2025-12-20")  # dated after the week: a slip
    new = household("H9", township="新河镇", valid_from="2025-12-01")
    export = {
        "households": _typed("households", [moved, new]),
        "members": _typed("members", [member("H9", "M9", "1980-01-01", valid_from="2025-12-01")]),
        "income_surveys": history["income_surveys"].iloc[:0],
        "events": history["events"].iloc[:0],
        "outcomes": history["outcomes"].iloc[:0],
    }
    tables = overlay_export(history, export, cutoff)
    h = tables["households"]
    current = h[(h["valid_from"] <= cutoff) & h["valid_to"].isna()]
    assert current.set_index("household_id").loc["H1", "land_mu"] == 9.0
    assert "H9" in set(current["household_id"]) and "H2" in set(current["household_id"])
    assert (h["household_id"] == "H1").sum() == 1  # the replaced version is gone
