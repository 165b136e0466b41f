"""The officers' verdict on the lists: how often a visited, listed household was confirmed at risk.

An online metric that needs no matured outcome: officers record what they found on each visit
(``features.vocabulary.FOLLOW_UP_OUTCOME``). Per week and township, the listed households fall in
two groups by why they were listed (``serving.core.watchlist``):
- ``model``: the model put them there (among the township's highest risks up to its capacity, or
  a sharp rise), whether or not an official criterion also held;
- ``rules_only``: only an official criterion put them there (the model would not have listed them).
For each group: listed households, those with a verdict (an outcome that says something about
risk, ``FOLLOW_UP_LABEL`` not None; the latest one of the week counts), those confirmed at risk,
the share confirmed among those with a verdict, and its Wilson 95% interval (statsmodels); beside
it the mean predicted 12-month risk of the same households, the offline figure the verdict is read
against (not the same event: an officer confirms risk now, the model predicts monitoring entry
within a year, so the two should move together rather than match).

The share is among *visited* households: which listed households officers reach first is their
choice, so a low visit rate in a group is reported beside the share rather than corrected for.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from features.vocabulary import FOLLOW_UP_LABEL

GROUPS = ("model", "rules_only")
MODEL_REASONS = frozenset({"capacity", "rising"})
CONFIDENCE = 0.95
COLUMNS = ["week", "township", "group", "listed", "with_verdict", "confirmed", "share", "low", "high",
           "mean_predicted"]


def list_group(reasons: Iterable[str]) -> str:
    """``model`` when the model listed the household (capacity or rising), else ``rules_only``."""
    return "model" if MODEL_REASONS & set(reasons) else "rules_only"


def wilson(confirmed: int, n: int, confidence: float = CONFIDENCE) -> tuple[float | None, float | None]:
    """Wilson score interval of ``confirmed / n`` (None, None without verdicts)."""
    if n <= 0:
        return None, None
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(confirmed, n, alpha=1 - confidence, method="wilson")
    # statsmodels' rounding leaves 5.6e-17 above a 0 share (and below a 1): the bounds hold it.
    share = confirmed / n
    return min(float(low), share), max(float(high), share)


def _rows(listed: pd.DataFrame, keys: list[str]) -> list[dict]:
    out = []
    for key, part in listed.groupby(keys, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        judged = part["label"].notna()
        n, k = int(judged.sum()), int((part["label"] == 1).sum())
        low, high = wilson(k, n)
        out.append({**dict(zip(keys, key, strict=True)), "listed": len(part), "with_verdict": n, "confirmed": k,
                    "share": k / n if n else None, "low": low, "high": high,
                    "mean_predicted": float(part.loc[judged, "probability"].mean()) if n else None})
    return out


def verdict_table(listed: pd.DataFrame, feedback: pd.DataFrame) -> pd.DataFrame:
    """The officers' verdict per week, township (None: the county) and group, and over all weeks
    (week None).

    Args:
        listed: one row per listed household and week: ``week``, ``township``, ``household_id``,
            ``group`` (:func:`list_group`), ``probability`` (the published risk).
        feedback: visit records: ``week``, ``household_id``, ``outcome``, in the order recorded
            (the latest record of a household's week is its verdict).

    Returns:
        ``COLUMNS``: counts, the share confirmed among households with a verdict, its interval.
    """
    if listed.empty:
        return pd.DataFrame(columns=COLUMNS)
    latest = feedback.drop_duplicates(["week", "household_id"], keep="last")
    labels = latest.assign(label=latest["outcome"].map(FOLLOW_UP_LABEL))[["week", "household_id", "label"]]
    table = listed.merge(labels, on=["week", "household_id"], how="left")
    table["label"] = pd.to_numeric(table["label"], errors="coerce")
    county = table.assign(township=None)
    every = county.assign(week=None)
    rows = _rows(table, ["week", "township", "group"]) + _rows(county, ["week", "township", "group"]) + \
        _rows(every, ["week", "township", "group"])
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.replace({np.nan: None})


def headline(table: pd.DataFrame) -> dict[str, dict]:
    """Over all weeks, county-wide, per group: counts, share and interval (for logging and the page)."""
    whole = table.loc[table["week"].isna() & table["township"].isna()]
    return {r["group"]: {k: r[k] for k in ("listed", "with_verdict", "confirmed", "share", "low", "high",
                                           "mean_predicted")}
            for r in whole.to_dict(orient="records")}
