"""The true state as a target: which (household, cutoff) rows spent weeks in hardship in the
outcome window. Only the simulator knows it (``truth/hardship.parquet``); the audit sample
estimates it in a county. Never a feature: training and evaluation read it beside the label.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_WEEKS = 4  # weeks in hardship within the window that count as "fell into hardship"


def hardship_weeks(truth: pd.DataFrame, rows: pd.DataFrame, horizon_weeks: int) -> np.ndarray:
    """Weeks each row's household spent in true hardship after its cutoff (within the horizon).

    Args:
        truth: household_id, week_end (a Sunday) for every week a household was in hardship.
        rows: household_id, cutoff (the rows of a training or test frame).
        horizon_weeks: the outcome window's length.
    """
    out = np.zeros(len(rows), dtype=np.int64)
    ends = pd.to_datetime(truth["week_end"])
    cutoffs = pd.to_datetime(rows["cutoff"])
    for cutoff in cutoffs.unique():
        inside = (ends > cutoff) & (ends <= cutoff + pd.Timedelta(weeks=horizon_weeks))
        counts = truth.loc[inside.to_numpy(), "household_id"].value_counts()
        at = (cutoffs == cutoff).to_numpy()
        out[at] = rows.loc[at, "household_id"].map(counts).fillna(0).to_numpy(dtype=np.int64)
    return out


def in_hardship(truth: pd.DataFrame, rows: pd.DataFrame, horizon_weeks: int, min_weeks: int = MIN_WEEKS) -> np.ndarray:
    """1 where the household spent at least ``min_weeks`` weeks in hardship in its window."""
    return (hardship_weeks(truth, rows, horizon_weeks) >= min_weeks).astype(np.int8)


def hardship_at(truth: pd.DataFrame, cutoff: pd.Timestamp, weeks: int = MIN_WEEKS) -> set[str]:
    """Households in hardship in any of the ``weeks`` weeks up to ``cutoff`` (what a home check at
    the cutoff would find: the demo simulates its audit findings with it)."""
    ends = pd.to_datetime(truth["week_end"])
    cutoff = pd.Timestamp(cutoff)
    inside = (ends > cutoff - pd.Timedelta(weeks=weeks)) & (ends <= cutoff + pd.Timedelta(days=6))
    return set(truth.loc[inside.to_numpy(), "household_id"])
