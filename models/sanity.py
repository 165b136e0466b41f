"""Sanity of every score: a probability must be a finite number in [0, 1].

Training and the weekly job call :func:`check_probabilities` before anything is logged or
published. A NaN written to the store would become a null that sorts, lists and explains as if it
were a score; an officer would never learn that a household was not scored at all. So a batch with
any bad probability is refused as a whole, in one line that names the households and, for each,
the input features that could have caused it (non-finite values, or values beyond every other
household's range), so the operator can fix the record or the model rather than guess.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

SHOWN = 5  # households named in the one-line message (the count says how many more)


class ScoreSanityError(ValueError):
    """Some probabilities are non-finite or outside [0, 1]; the message is one line."""

    def __init__(self, message: str, households: list[str] | None = None,
                 features: dict[str, list[str]] | None = None):
        # Defaults keep the error picklable (rebuilt from its message alone across processes).
        super().__init__(message)
        self.households = households or []
        self.features = features or {}


def bad_rows(probability: np.ndarray) -> np.ndarray:
    """Boolean mask of the probabilities that are NaN, infinite or outside [0, 1]."""
    p = np.asarray(probability, dtype="float64")
    with np.errstate(invalid="ignore"):
        return ~np.isfinite(p) | (p < 0.0) | (p > 1.0)


def suspect_features(frame: pd.DataFrame, bad: np.ndarray, columns: Sequence[str]) -> dict[int, list[str]]:
    """For each bad row (by position), the numeric inputs that are non-finite, or finite but beyond
    the range every well-scored row spans (an extreme value the trees never saw near)."""
    numeric = [c for c in columns if c in frame.columns and pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])]
    values = frame[numeric].to_numpy(dtype="float64", na_value=np.nan) if numeric else np.zeros((len(frame), 0))
    good = values[~bad]
    with np.errstate(all="ignore"):
        low = np.nanmin(np.where(np.isfinite(good), good, np.nan), axis=0) if len(good) else np.full(len(numeric), np.nan)
        high = np.nanmax(np.where(np.isfinite(good), good, np.nan), axis=0) if len(good) else np.full(len(numeric), np.nan)
    out: dict[int, list[str]] = {}
    for i in np.flatnonzero(bad):
        row = values[i]
        infinite = [f"{numeric[j]}={row[j]}" for j in np.flatnonzero(np.isinf(row))]
        with np.errstate(invalid="ignore"):
            extreme = np.isfinite(row) & np.isfinite(low) & ((row < low) | (row > high))
        out[int(i)] = infinite + [f"{numeric[j]}={row[j]:g}" for j in np.flatnonzero(extreme)]
    return out


def check_probabilities(probability: np.ndarray, frame: pd.DataFrame, *, columns: Sequence[str] | None = None,
                        where: str = "scores") -> None:
    """Raise :class:`ScoreSanityError` when any probability is non-finite or outside [0, 1].

    Args:
        probability: the calibrated probability of each frame row.
        frame: the rows that were scored (``household_id`` names them; without it, the row number).
        columns: the model's input columns to blame (default: every numeric column of ``frame``).
        where: what was being scored, for the message (e.g. "2025-W48", "training test rows").
    """
    p = np.asarray(probability, dtype="float64")
    if len(p) != len(frame):
        raise ScoreSanityError(f"{where}: {len(p)} probabilities for {len(frame)} rows / 评分与户数不符", [], {})
    bad = bad_rows(p)
    if not bad.any():
        return
    ids = (frame["household_id"].astype(str).to_numpy() if "household_id" in frame.columns
           else np.array([f"row {i}" for i in range(len(frame))]))
    blamed = suspect_features(frame, bad, list(columns) if columns is not None else list(frame.columns))
    households = [str(ids[i]) for i in np.flatnonzero(bad)]
    features = {str(ids[i]): names for i, names in blamed.items()}
    shown = []
    for i in np.flatnonzero(bad)[:SHOWN]:
        names = blamed[int(i)]
        shown.append(f"{ids[i]} (p={p[i]}; " + (", ".join(names[:4]) if names else "no unusual input") + ")")
    more = f" and {len(households) - SHOWN} more" if len(households) > SHOWN else ""
    cause = ("" if any(features.values()) else
             "; no input is unusual, so the model artifact itself is at fault (re-register or roll back)")
    raise ScoreSanityError(
        f"{where}: {len(households)} of {len(p)} households got a risk that is not a number in [0, 1], "
        f"nothing published: {'; '.join(shown)}{more}{cause} / 风险评分异常（非有限或超出0-1），未发布",
        households, features)
