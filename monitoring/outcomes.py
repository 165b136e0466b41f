"""Matured outcomes: who entered monitoring within 52 weeks of a past cutoff.

The definition is the model's label (``training.dataset``): households not under monitoring at
the cutoff, positive when their first monitoring entry after the cutoff falls within the horizon.
Monitoring may not import training, so the few lines are repeated here; both read the same
``outcomes`` contract table, and ``tests/model`` checks they agree.
"""

from __future__ import annotations

import pandas as pd

WEEK = pd.Timedelta(weeks=1)
HORIZON_WEEKS = 52


def data_end(tables: dict[str, pd.DataFrame]) -> pd.Timestamp:
    """The last date anything in the registry is dated (outcomes are known up to it)."""
    dates = [
        tables["households"]["valid_from"].max(),
        tables["events"]["event_date"].max() if len(tables["events"]) else pd.NaT,
        tables["outcomes"]["entry_date"].max() if len(tables["outcomes"]) else pd.NaT,
        tables["income_surveys"]["survey_date"].max() if len(tables["income_surveys"]) else pd.NaT,
    ]
    return pd.Timestamp(max(d for d in dates if pd.notna(d))).normalize()


def matured(cutoff: pd.Timestamp, end: pd.Timestamp, horizon_weeks: int = HORIZON_WEEKS) -> bool:
    """Whether the cutoff's whole label window lies on or before ``end``."""
    return pd.Timestamp(cutoff) + horizon_weeks * WEEK <= pd.Timestamp(end)


def realised_outcomes(frame: pd.DataFrame, outcomes: pd.DataFrame, cutoff: pd.Timestamp,
                      horizon_weeks: int = HORIZON_WEEKS) -> pd.DataFrame:
    """Eligible rows of a frame (not under monitoring at the cutoff) with ``entered`` (0/1).

    Args:
        frame: household frame at ``cutoff``.
        outcomes: the contract's monitoring records.
        cutoff: the frame's cutoff.
        horizon_weeks: the label window.
    """
    eligible = frame.loc[~frame["under_monitoring"].to_numpy(dtype=bool)].reset_index(drop=True)
    entered = entrants(outcomes, cutoff, horizon_weeks)
    eligible["entered"] = eligible["household_id"].isin(entered).to_numpy(dtype=int)
    return eligible


def entrants(outcomes: pd.DataFrame, cutoff: pd.Timestamp, horizon_weeks: int = HORIZON_WEEKS) -> set:
    """Households with a monitoring entry after ``cutoff`` and within the label window (for a
    household not under monitoring at the cutoff, its first entry after it decides the label)."""
    cutoff = pd.Timestamp(cutoff)
    entry = outcomes["entry_date"]
    return set(outcomes.loc[(entry > cutoff) & (entry <= cutoff + horizon_weeks * WEEK), "household_id"])
