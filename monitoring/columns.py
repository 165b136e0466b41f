"""How the drift check reads a frame's columns: categorical or numeric, as float arrays, finite
means and medians, and JSON records of its result tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.model_features import CATEGORICAL_FEATURES


def is_categorical(name: str, series: pd.Series) -> bool:
    return name in CATEGORICAL_FEATURES or pd.api.types.is_bool_dtype(series) or not (
        pd.api.types.is_numeric_dtype(series)
    )


def as_numbers(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series):
        series = series.astype("float64")
    return pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()


def finite_mean(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(np.mean(values)) if len(values) else float("nan")


def finite_median(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if len(values) else float("nan")
