"""Cells over the field-length limit, found by the string kernel (issue 32: the per-cell Python
call was the largest part of reading a province's export) with the same answer as before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.input_limits import Limits, too_long


def per_cell(values: pd.Series, chars: int) -> pd.Series:
    """The earlier definition: a Python length per cell, anything but text counting 0."""
    return values.map(lambda v: len(v) if isinstance(v, str) else 0) > chars


@pytest.mark.parametrize("dtype", [object, "str", "string[pyarrow]"])
def test_long_cells_are_those_a_per_cell_length_finds(dtype):
    rng = np.random.default_rng(0)
    words = ["", "张三", "城关镇河口村", "x" * 5, "中" * 6, "ab\u00e9cd", "y" * 7]
    values = [words[i] for i in rng.integers(0, len(words), 500)]
    values[3] = None
    series = pd.Series(values, dtype=dtype, index=pd.RangeIndex(2, 502))
    found = too_long(pd.DataFrame({"c": series}), Limits(field_chars=5))
    expected = per_cell(series.astype(object).where(series.notna(), None), 5)
    assert expected.any()
    assert found["c"].tolist() == expected.tolist() and found["c"].index.equals(series.index)


def test_other_objects_count_as_short():
    series = pd.Series(["a" * 9, ["b"] * 9, b"c" * 9, 123456789], dtype=object)
    assert too_long(pd.DataFrame({"c": series}), Limits(field_chars=5))["c"].tolist() == [True, False, False, False]
