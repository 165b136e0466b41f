"""Data quality of the week against the reference: missing shares, values far outside the
reference's range, new category values, columns that became constant.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from monitoring.columns import as_numbers, is_categorical
from monitoring.drift_settings import CALENDAR_FEATURES, Thresholds


def _became_constant(r: pd.Series, c: pd.Series) -> bool:
    """One value for every household now, several in the reference, and that value was not
    already the reference's usual one (every household insured now is progress, not a broken
    column; a column all missing or stuck at an unusual value is)."""
    if len(c) == 0 or c.nunique(dropna=True) > 1 or r.nunique(dropna=True) <= 1:
        return False
    values = c.dropna()
    if values.empty:
        return True
    usual = float((r.astype("object") == values.iloc[0]).mean())
    return usual < 0.5


def quality_table(ref: pd.DataFrame, cur: pd.DataFrame, features: list[str], th: Thresholds) -> pd.DataFrame:
    rows = []
    for name in features:
        r, c = ref[name], cur[name]
        row: dict[str, Any] = {
            "feature": name,
            "missing_reference": float(r.isna().mean()),
            "missing_current": float(c.isna().mean()),
            "constant_now": _became_constant(r, c),
            "new_values": [],
            "out_of_range_share": 0.0,
        }
        if pd.api.types.is_bool_dtype(r):
            # Both values of a yes/no field are valid by the contract: one absent from the
            # reference sample (unsafe water is rare) is not a new category or out of range.
            pass
        elif is_categorical(name, r):
            seen = set(r.dropna().astype(str))
            row["new_values"] = sorted(set(c.dropna().astype(str)) - seen)
        else:
            rv, cv = as_numbers(r), as_numbers(c)
            rv, cv = rv[np.isfinite(rv)], cv[np.isfinite(cv)]
            if len(cv) and name.endswith("_share"):
                # A share is implausible only outside 0..1; within it any value can happen.
                row["out_of_range_share"] = float(((cv < -1e-9) | (cv > 1 + 1e-9)).mean())
            elif len(rv) and len(cv) and name not in CALENDAR_FEATURES:
                lo, hi = rv.min(), rv.max()
                # Half the span of slack: a sample's extremes move as a population ages or
                # grows richer; what is flagged is far outside, not just a new record.
                slack = 0.5 * (hi - lo)
                row["out_of_range_share"] = float(((cv < lo - slack) | (cv > hi + slack)).mean())
                row["reference_min"], row["reference_max"] = float(lo), float(hi)
        rows.append(row)
    return pd.DataFrame(rows)
