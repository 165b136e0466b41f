"""Staleness, measured: how a model's ranking quality falls with the age of what it learned.

The evaluated procedure's trees learned from labels that end one horizon after their newest
training cutoff. Every later matured cutoff the run has already built (the calibration part, the
test part, and any cutoff between) is scored with those trees, and its AUC and recall at the list
capacity are set against the cutoff's *age*: weeks from the end of the trees' training labels to
the cutoff. Cutoffs younger than zero share label windows with the training rows and are left out.
Ranking figures are used because they do not depend on the calibrator (sigmoid calibration is
strictly monotone; the margin is ranked, so isotonic ties change nothing either): the calibration
part's cutoffs are therefore fair points although the calibrator was fit on them. Tuning chose the
settings by AUC on the calibration part, which can only make the youngest points look better and the
decay steeper: the limit errs towards retraining early.

A straight line through (age, AUC) gives the decay per week. The served model starts serving at
``age_at_data_end`` (its trees' labels end well before its calibration window does, as the
evaluated trees' did before the test part); the limit is the age at which the line has fallen
``auc_tolerance`` below its value there, never further than ``max_extrapolation_weeks`` past the
oldest age measured (the line says nothing about ages no cutoff had). The weekly job compares the
champion's weeks since its data ended with ``limit_weeks_after_data_end``.

Intervals: the same household-clustered bootstrap as the test figures (``training.uncertainty``):
households are drawn once per replicate for every cutoff, and the slope and the limit are refit on
each replicate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from models import metrics as mt
from training.uncertainty import RankedScore, household_weights, interval

WEEK = pd.Timedelta(weeks=1)
DEFAULTS = {"auc_tolerance": 0.02, "max_extrapolation_weeks": 26, "replicates": 100}


def _slope(age: np.ndarray, value: np.ndarray) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line through the finite points (NaN with < 2)."""
    ok = np.isfinite(value)
    if ok.sum() < 2 or np.ptp(age[ok]) == 0:
        return float("nan"), float("nan")
    slope, intercept = np.polyfit(age[ok], value[ok], 1)
    return float(intercept), float(slope)


def _limit(intercept: float, slope: float, start: float, tolerance: float, cap: float) -> float:
    """Age at which the line falls ``tolerance`` below its value at ``start`` (at most ``cap``)."""
    if not np.isfinite(slope) or slope >= 0:
        return cap
    return float(min(start + tolerance / -slope, cap))


def staleness_curve(model: Any, rows: pd.DataFrame, *, trees_last_cutoff: pd.Timestamp, horizon_weeks: int,
                    capacity: float, served_fit_last: pd.Timestamp | None, data_end: pd.Timestamp,
                    config: dict[str, Any] | None = None, seed: int = 0) -> dict[str, Any]:
    """Quality per matured cutoff against the age of the trees, and the age limit it implies.

    Args:
        model: the evaluated ``RiskPipeline`` (trees fit on the training part).
        rows: training rows of every built cutoff (``cutoff``, ``label``, ``household_id``).
        trees_last_cutoff: the newest cutoff the trees were fit on.
        horizon_weeks: the label horizon.
        capacity: the list's share of eligible households.
        served_fit_last: the served model's newest tree cutoff (None: the served age is unknown).
        data_end: the end of the data the served model learned from.
        config: ``auc_tolerance``, ``max_extrapolation_weeks``, ``replicates`` (defaults above).
        seed: bootstrap seed.

    Returns:
        JSON-ready dict: ``curve`` (one record per cutoff), the fitted line, the limit in trees'
        age and in weeks after the data end, each with a 95% interval, and the settings.
    """
    cfg = {**DEFAULTS, **(config or {})}
    trees_end = pd.Timestamp(trees_last_cutoff) + horizon_weeks * WEEK
    part = rows.loc[rows["cutoff"] >= trees_end].reset_index(drop=True)
    if part["cutoff"].nunique() < 2:
        return {"measured": False, "reason": "fewer than two cutoffs after the training labels ended", **cfg}
    score = np.asarray(model.raw_score(part), dtype="float64")
    y = part["label"].to_numpy().astype(bool)
    cutoffs = sorted(part["cutoff"].unique())
    masks = [(part["cutoff"] == c).to_numpy() for c in cutoffs]
    age = np.array([(pd.Timestamp(c) - trees_end) / WEEK for c in cutoffs], dtype=float)
    listed = mt.top_share(score, part["cutoff"].to_numpy(), capacity)
    key = f"recall_at_{mt.capacity_key(capacity)}"

    def figures(weight: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        aucs, recalls = [], []
        for mask, ranked in zip(masks, ranking, strict=True):
            aucs.append(ranked.auc_ap(None if weight is None else weight[mask])[0])
            recalls.append(mt.recall_precision(y[mask], listed[mask], None if weight is None else weight[mask])[0])
        return np.array(aucs), np.array(recalls)

    ranking = [RankedScore(y[m], score[m]) for m in masks]
    auc, recall = figures(None)
    served_age = (None if served_fit_last is None else
                  float((pd.Timestamp(data_end) - pd.Timestamp(served_fit_last)) / WEEK - horizon_weeks))
    start = served_age if served_age is not None else float(age.max())
    cap = float(age.max() + cfg["max_extrapolation_weeks"])
    intercept, slope = _slope(age, auc)
    limit = _limit(intercept, slope, start, float(cfg["auc_tolerance"]), cap)
    draws: dict[str, list[float]] = {"slope": [], "limit": []}
    auc_draws, recall_draws = [], []
    for w in household_weights(part["household_id"].to_numpy(), int(cfg["replicates"]), seed):
        a, r = figures(w)
        auc_draws.append(a)
        recall_draws.append(r)
        _, s = _slope(age, a)
        draws["slope"].append(s)
        draws["limit"].append(_limit(0.0, s, start, float(cfg["auc_tolerance"]), cap))
    auc_ci = [interval(col) for col in np.array(auc_draws).T]
    recall_ci = [interval(col) for col in np.array(recall_draws).T]
    curve = [{"cutoff": str(pd.Timestamp(c).date()), "age_weeks": float(a), "rows": int(m.sum()),
              "entrants": int(y[m].sum()), "auc": _num(au), "auc_low": ac[0], "auc_high": ac[1],
              key: _num(re), f"{key}_low": rc[0], f"{key}_high": rc[1]}
             for c, a, m, au, re, ac, rc in zip(cutoffs, age, masks, auc, recall, auc_ci, recall_ci, strict=True)]
    limit_ci = interval(draws["limit"])
    return {
        "measured": True,
        "curve": curve,
        "metric": "auc",
        "intercept": _num(intercept),
        "slope_per_week": _num(slope),
        "slope_per_week_ci": interval(draws["slope"]),
        "served_age_at_data_end": served_age,
        "oldest_age_measured": float(age.max()),
        "limit_age_weeks": limit,
        "limit_age_weeks_ci": limit_ci,
        "limit_weeks_after_data_end": round(limit - start, 1),
        "limit_weeks_after_data_end_ci": [None if v is None else round(v - start, 1) for v in limit_ci],
        "replicates": int(cfg["replicates"]),
        "auc_tolerance": float(cfg["auc_tolerance"]),
        "max_extrapolation_weeks": float(cfg["max_extrapolation_weeks"]),
        "capacity": capacity,
    }


def _num(value: float) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None
