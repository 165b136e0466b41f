"""The reference a week is compared with when no champion model (and so no logged reference
sample) exists yet: a PII-free sample of household frames at past, matured cutoffs.

Training logs its own reference with the champion (rows of its training frames plus the model's
``prediction``); this builds the same kind of sample from the history alone, so the monitor can
run before the first model is registered. Its cutoffs are every ``step_weeks`` over the matured
part of the history (at least 52 weeks of past before, 52 weeks of future after each), i.e. the
period a model trained today would learn from; it has no predictions, so prediction drift is not
computed against it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.frame_schema import REFERENCE_CONTEXT
from features.household_frame import build_household_frame
from features.model_features import MODEL_FEATURES
from features.policy import Policy
from monitoring.sample import stratified_sample

WEEK = pd.Timedelta(weeks=1)


def reference_cutoffs(start: pd.Timestamp, end: pd.Timestamp, *, step_weeks: int = 8,
                      horizon_weeks: int = 52, warmup_weeks: int = 52, max_cutoffs: int = 7) -> list[pd.Timestamp]:
    """Matured cutoffs every ``step_weeks``, newest first kept, at most ``max_cutoffs``."""
    last = pd.Timestamp(end) - horizon_weeks * WEEK
    first = pd.Timestamp(start) + warmup_weeks * WEEK
    cutoffs = []
    c = last
    while c >= first and len(cutoffs) < max_cutoffs:
        cutoffs.append(c)
        c -= step_weeks * WEEK
    return sorted(cutoffs)


def reference_from_history(tables: dict[str, pd.DataFrame], policy: Policy, *, size: int = 5000,
                           seed: int = 0, **cutoff_options) -> pd.DataFrame:
    """A township-stratified sample of household frames at matured past cutoffs.

    Args:
        tables: contract tables of the county history.
        policy: the county policy (lines per year).
        size: rows in the sample.
        seed: sampling seed.
        **cutoff_options: passed to :func:`reference_cutoffs`.

    Returns:
        ``REFERENCE_CONTEXT`` + model features; no household ID, name, ID number or phone.

    Raises:
        ValueError: the history is too short for one matured cutoff.
    """
    start = pd.Timestamp(tables["households"]["valid_from"].min()).normalize()
    dated = [tables["events"]["event_date"].max(), tables["income_surveys"]["survey_date"].max(),
             tables["households"]["valid_from"].max()]
    end = pd.Timestamp(max(d for d in dated if pd.notna(d))).normalize()
    cutoffs = reference_cutoffs(start, end, **cutoff_options)
    if not cutoffs:
        raise ValueError("the history is too short for a reference (needs two years) / 历史数据不足两年")
    frames = [build_household_frame(tables, c, policy) for c in cutoffs]
    rows = pd.concat(frames, ignore_index=True)
    rows = rows.loc[~rows["under_monitoring"].to_numpy(dtype=bool)]  # the model's population
    sample = stratified_sample(rows, size=size, seed=seed)
    columns = [c for c in dict.fromkeys(REFERENCE_CONTEXT + list(MODEL_FEATURES)) if c in sample.columns]
    return sample[columns].reset_index(drop=True)


def as_reference(frame: pd.DataFrame, predictions: np.ndarray | None = None) -> pd.DataFrame:
    """Strip a frame to what a reference may hold (context + model features [+ prediction])."""
    columns = [c for c in dict.fromkeys(REFERENCE_CONTEXT + list(MODEL_FEATURES)) if c in frame.columns]
    out = frame[columns].reset_index(drop=True)
    if predictions is not None:
        out["prediction"] = np.asarray(predictions, dtype="float64")
    return out
