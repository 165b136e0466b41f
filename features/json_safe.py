"""JSON-safe values, the one converter every layer uses: numpy scalars and arrays, pandas'
timestamps and missing values, NaN and infinities (PostgreSQL's JSON type refuses NaN) made into
what ``json``/``orjson`` write as plain JSON.

It lives in features/, the lowest layer, so the models (explanations), training (metrics
documents), monitoring (model health) and serving (store rows, CLI output) all call this one.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal

import numpy as np
import pandas as pd


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as JSON-safe dicts, vectorised (dates as YYYY-MM-DD, NaN/NaT/NA as None)."""
    import orjson

    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    # to_json is vectorised and writes NaN/NA as null; 15 digits keep float64 round-trips exact
    # enough that an on-demand explanation matches the batch one.
    return orjson.loads(out.to_json(orient="records", force_ascii=False, double_precision=15))


def plain(value: Any, *, dates: Literal["day", "iso", "text"] = "day") -> Any:
    """JSON-safe, recursively: dict keys as strings, sequences and arrays as lists, frames as
    :func:`records`, numpy scalars as Python numbers, None/NA/NaT/NaN/infinity as None; anything
    else unknown as its ``str``.

    ``dates``: how timestamps and dates are written: ``"day"`` YYYY-MM-DD (the store's rows and
    documents), ``"iso"`` the full ISO text (explanations keep what they always held), ``"text"``
    Python's ``str`` (the CLI's JSON line). Also usable as ``orjson``'s ``default=``."""
    if isinstance(value, dict):
        return {str(k): plain(v, dates=dates) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [plain(v, dates=dates) for v in value]
    if isinstance(value, pd.DataFrame):
        return records(value)
    if isinstance(value, (pd.Timestamp, dt.date)):
        if value is pd.NaT:
            return None
        return value.isoformat()[:10] if dates == "day" else value.isoformat() if dates == "iso" else str(value)
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
