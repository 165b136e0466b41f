"""What the registry knew at a cutoff: rows recorded by then, in force or dated by then.

County registries are filled in late: department feeds arrive after days or weeks, village
checks run monthly, and home visits back-date rows (a valid-from or event date weeks or months
before the day the row was entered). A row dated before a cutoff but recorded after it was not
known at the cutoff, and reading it would leak the future (often the very visit that led to
monitoring) into the features. ``recorded_at`` (入库时间) says when a row was entered; exports
without it fall back to the validity dates, and training says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RECORDED = "recorded_at"
BASIS_RECORDING = "recording dates (入库时间)"
BASIS_VALIDITY = "validity dates (no 入库时间 in the data)"


def has_recording_dates(table: pd.DataFrame) -> bool:
    """True when the table carries recording dates for its rows."""
    return RECORDED in table.columns and bool(table[RECORDED].notna().any())


def basis(tables: dict[str, pd.DataFrame]) -> str:
    """The point-in-time basis of a set of contract tables (for run records and reports)."""
    with_dates = [t for t in tables.values() if RECORDED in t.columns and len(t)]
    return BASIS_RECORDING if with_dates and all(has_recording_dates(t) for t in with_dates) else BASIS_VALIDITY


def recorded_by(table: pd.DataFrame, cutoff: pd.Timestamp) -> pd.Series:
    """Mask of rows entered on or before the cutoff (rows without a recording date count)."""
    if RECORDED not in table.columns:
        return pd.Series(True, index=table.index)
    when = table[RECORDED]
    return when.isna() | (when <= cutoff)


def valid_at(table: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Rows of a slowly changing table valid at the cutoff, by validity dates alone."""
    mask = (table["valid_from"] <= cutoff) & (table["valid_to"].isna() | (table["valid_to"] > cutoff))
    return table.loc[mask]


def known_at(table: pd.DataFrame, cutoff: pd.Timestamp, key: str) -> pd.DataFrame:
    """Each row's version as the registry showed it at the cutoff.

    Among the versions recorded by the cutoff and valid from a day on or before it, the latest
    wins. Its ``valid_to`` may be the start of a version recorded only later: that does not
    close it. A version closes only when nothing follows it (the member died or left, the
    household was closed) and the closing day has passed.
    """
    if not has_recording_dates(table):
        return valid_at(table, cutoff)
    # NumPy on the key-ordered rows: training builds frames at a hundred cutoffs
    t = table if _ordered(table, key) else table.sort_values([key, "valid_from"], kind="stable")
    k = t[key].to_numpy(dtype=object)
    start = t["valid_from"].to_numpy("datetime64[ns]")
    end = t["valid_to"].to_numpy("datetime64[ns]")
    recorded = t[RECORDED].to_numpy("datetime64[ns]")
    same_next = np.zeros(len(t), bool)
    same_next[:-1] = k[1:] == k[:-1]
    following = np.full(len(t), np.datetime64("NaT"), "datetime64[ns]")
    following[:-1] = start[1:]
    closes = ~np.isnat(end) & (~same_next | (following != end))
    c = np.datetime64(pd.Timestamp(cutoff).to_datetime64(), "ns")
    seen = np.flatnonzero((np.isnat(recorded) | (recorded <= c)) & (start <= c))
    latest = np.ones(len(seen), bool)
    latest[:-1] = k[seen[1:]] != k[seen[:-1]]
    pick = seen[latest]
    return t.iloc[pick[~(closes[pick] & (end[pick] <= c))]]


def _ordered(table: pd.DataFrame, key: str) -> bool:
    """True when rows are already ordered by key, then valid_from (as the history is written)."""
    k = table[key].to_numpy(dtype=object)
    if len(k) < 2:
        return True
    try:
        if not (k[1:] >= k[:-1]).all():
            return False
    except TypeError:  # mixed key types: let pandas sort
        return False
    start = table["valid_from"].to_numpy("datetime64[ns]")
    same = k[1:] == k[:-1]
    return bool((start[1:][same] >= start[:-1][same]).all())
