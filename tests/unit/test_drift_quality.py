"""The data-quality part of the drift check on tiny frames."""

from __future__ import annotations

import pandas as pd

from monitoring.drift_settings import Thresholds
from monitoring.quality import quality_table as _quality


def test_a_yes_no_value_missing_from_the_reference_is_not_new_or_out_of_range():
    ref = pd.DataFrame({"safe_water": [True] * 50, "housing_grade": ["A"] * 25 + ["B"] * 25})
    cur = pd.DataFrame({"safe_water": [True] * 49 + [False], "housing_grade": ["A"] * 49 + ["D"]})
    rows = _quality(ref, cur, ["safe_water", "housing_grade"], Thresholds()).set_index("feature")
    assert rows.loc["safe_water", "new_values"] == []
    assert rows.loc["safe_water", "out_of_range_share"] == 0.0
    # A real category the reference never saw is still reported.
    assert rows.loc["housing_grade", "new_values"] == ["D"]
