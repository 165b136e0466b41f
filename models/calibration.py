"""Probability calibrators for the LightGBM margin, and the out-of-time choice between them.

Three maintained-library calibrators, each a map margin -> probability:
- ``sigmoid``: Platt scaling (scikit-learn ``LogisticRegression`` on the margin). Strictly monotone,
  two parameters: it cannot bend, so on a county where the trees over-rank the middle and
  under-rank the top it over-predicts the middle deciles and under-predicts the top 5%.
- ``isotonic``: scikit-learn ``IsotonicRegression``. Any monotone shape, but steps: households in
  one step share a probability.
- ``spline``: a logistic regression on a cubic B-spline basis of the margin (scikit-learn
  ``SplineTransformer``, knots at margin quantiles, linear beyond them). Smooth and bendable; not
  monotone by construction, so a fit that falls anywhere over the margins it saw is refused.

The choice is made *out of time*: each candidate is fit on the older cutoffs of the calibration
window and judged on its newest cutoffs (the part of the data closest to what the model will
serve), by the two gates that judge calibration where visits are decided: top-5% observed/expected
and ECE relative to the base rate. The chosen method is then refit on the whole window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer

from models import metrics as mt

METHODS = ("sigmoid", "isotonic", "spline")
# The gate bands the choice is scored against (training/default_config.yaml: gates).
TOP5_OE_TOLERANCE = 0.10
ECE_RELATIVE_MAX = 0.15


def fit_calibrator(method: str, margin: np.ndarray, y: np.ndarray):
    """A fitted calibrator of ``method`` on (margin, 0/1 label)."""
    margin = np.asarray(margin, dtype="float64").reshape(-1, 1)
    y = np.asarray(y).astype(int)
    if method == "isotonic":
        return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(margin.ravel(), y)
    if method == "sigmoid":
        return LogisticRegression(C=1e6).fit(margin, y)
    if method == "spline":
        # Four interior knots at margin quantiles; mild L2 keeps the tails from swinging where the
        # top 1% holds only a few dozen entrants.
        return make_pipeline(SplineTransformer(n_knots=5, degree=3, knots="quantile", extrapolation="linear"),
                             LogisticRegression(C=1.0, max_iter=1000)).fit(margin, y)
    raise ValueError(f"unknown calibration {method!r}; choose one of {', '.join(METHODS)} or auto")


def apply_calibrator(method: str, calibrator, margin: np.ndarray) -> np.ndarray:
    """Calibrated probabilities for margins."""
    margin = np.asarray(margin, dtype="float64")
    if method == "isotonic":
        return calibrator.predict(margin.ravel())
    return calibrator.predict_proba(margin.reshape(-1, 1))[:, 1]


def is_monotone(method: str, calibrator, margin: np.ndarray, points: int = 200) -> bool:
    """Does the calibrated probability never fall as the margin rises, over the margins seen?"""
    grid = np.linspace(float(np.min(margin)), float(np.max(margin)), points)
    p = apply_calibrator(method, calibrator, grid)
    return bool(np.all(np.diff(p) >= -1e-9))


def judge(y: np.ndarray, p: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    """Top-5% observed/expected, ECE / base rate, and one badness figure: the larger of the two
    as a share of its gate band (below 1: both inside their gates)."""
    y = np.asarray(y).astype(int)
    listed = mt.top_share(p, groups, 0.05)
    oe = mt.observed_expected(y[listed], p[listed])
    base = float(y.mean()) if len(y) else float("nan")
    ece_rel = mt.expected_calibration_error(y, p) / base if base > 0 else float("nan")
    bad = max(abs(oe - 1) / TOP5_OE_TOLERANCE, ece_rel / ECE_RELATIVE_MAX)
    return {"top5_observed_expected": float(oe), "ece_relative": float(ece_rel),
            "badness": float(bad) if np.isfinite(bad) else float("inf")}


def choose(margin: np.ndarray, y: np.ndarray, cutoffs: np.ndarray,
           methods: tuple[str, ...] = METHODS) -> tuple[str, pd.DataFrame]:
    """The calibrator with the best out-of-time top-5% O/E and ECE on a calibration window.

    Args:
        margin: the trees' margins on the calibration window's rows.
        y: their labels.
        cutoffs: each row's cutoff; the older half of the cutoffs fit, the newest half judge.
        methods: the candidates, in order of preference on a tie.

    Returns:
        (chosen method, one row per candidate: method, fit_first/last, judged_first/last, rows,
        entrants judged, top5_observed_expected, ece_relative, badness, monotone, chosen).
    """
    margin = np.asarray(margin, dtype="float64")
    y = np.asarray(y).astype(int)
    cutoffs = np.asarray(cutoffs)
    distinct = np.sort(np.unique(cutoffs))
    if len(distinct) < 2:
        return methods[0], pd.DataFrame([{"method": methods[0], "chosen": True, "note": "one cutoff: no choice"}])
    older = cutoffs <= distinct[(len(distinct) - 1) // 2]
    newer = ~older
    if y[older].sum() == 0 or y[newer].sum() == 0:
        return methods[0], pd.DataFrame([{"method": methods[0], "chosen": True, "note": "no entrants: no choice"}])
    rows = []
    for method in methods:
        calibrator = fit_calibrator(method, margin[older], y[older])
        p = apply_calibrator(method, calibrator, margin[newer])
        monotone = is_monotone(method, calibrator, margin)
        rows.append({"method": method, "fit_first": str(pd.Timestamp(distinct[0]).date()),
                     "fit_last": str(pd.Timestamp(distinct[(len(distinct) - 1) // 2]).date()),
                     "judged_first": str(pd.Timestamp(distinct[(len(distinct) - 1) // 2 + 1]).date()),
                     "judged_last": str(pd.Timestamp(distinct[-1]).date()), "judged_rows": int(newer.sum()),
                     "judged_entrants": int(y[newer].sum()), **judge(y[newer], p, cutoffs[newer]),
                     "monotone": monotone})
    table = pd.DataFrame(rows)
    # A calibrator that lowers the probability as the margin rises would reorder the list.
    allowed = table.loc[table["monotone"]]
    chosen = str(allowed.sort_values("badness", kind="stable").iloc[0]["method"]) if len(allowed) else methods[0]
    table["chosen"] = table["method"] == chosen
    return chosen, table
