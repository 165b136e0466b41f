"""The one home of the figures training, the performance monitor, benchmarks and notebooks share.

Every place that reports one of these figures calls this module, so a reader comparing two
numbers on the data page compares the same definition:

- ECE (expected calibration error): ``ECE_BINS`` equal-frequency bins of the predicted
  probability; the row-weighted mean of |mean predicted - observed rate| per bin. Equal-frequency
  because the base rate is a few percent: equal-width bins would put nearly every row in the first
  bin and hide the top of the ranking, where visits are decided. Read it relative to the base
  rate (``ece / base rate``): 0.005 is excellent at a 40% base rate and poor at a 3% one.
- Recall / precision at capacity: within each group (cutoff, week) the top ``ceil(share * n)``
  rows by score are listed (officers can visit that many; a list is never empty); recall = listed
  entrants / all entrants, pooled over groups; precision = listed entrants / listed rows.
- Observed / expected: realised entrants divided by the sum of predicted probabilities (1.0 is
  calibrated in total; below 1 the model over-predicts, above 1 it under-predicts).

Optional ``weight`` arguments (a household-clustered bootstrap reweights rows by how often each
household was drawn) keep the same definitions with weighted sums.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

ECE_BINS = 15
CAPACITIES = (0.05, 0.10)


def _weights(y: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    return np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE over ``bins`` equal-frequency bins (see the module docstring); NaN without rows."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if len(y) == 0:
        return float("nan")
    order = np.argsort(p, kind="stable")
    chunks = np.array_split(order, min(bins, len(y)))
    return float(sum(len(c) * abs(p[c].mean() - y[c].mean()) for c in chunks if len(c)) / len(y))


def reliability(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> pd.DataFrame:
    """Mean predicted and observed rate per equal-frequency bin (the calibration plot)."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    rows = [
        {"predicted": float(p[c].mean()), "observed": float(y[c].mean()), "n": len(c)}
        for c in np.array_split(order, min(bins, max(len(order), 1)))
        if len(c)
    ]
    return pd.DataFrame(rows)


def observed_expected(y: np.ndarray, p: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Realised entrants / predicted entrants (NaN when nothing is predicted)."""
    y = np.asarray(y, dtype=float)
    w = _weights(y, weight)
    expected = float((np.asarray(p, dtype=float) * w).sum())
    return float((y * w).sum() / expected) if expected > 0 else float("nan")


def top_share(score: np.ndarray, groups: np.ndarray, share: float) -> np.ndarray:
    """Boolean mask: the top ``ceil(share * n)`` rows by score within each group (cutoff, week).

    Ties are broken by row order, which callers keep sorted by household_id: deterministic.
    """
    frame = pd.DataFrame({"g": np.asarray(groups), "s": np.asarray(score, dtype=float)})
    rank = frame.groupby("g", sort=False)["s"].rank(method="first", ascending=False)
    size = frame.groupby("g", sort=False)["s"].transform("size")
    return (rank <= np.ceil(share * size)).to_numpy()


def recall_precision(y: np.ndarray, listed: np.ndarray, weight: np.ndarray | None = None) -> tuple[float, float]:
    """(recall, precision) of a list: listed entrants over all entrants, and over listed rows.

    NaN recall without entrants, NaN precision without listed rows.
    """
    y = np.asarray(y).astype(bool)
    listed = np.asarray(listed, dtype=bool)
    w = _weights(y, weight)
    entrants, hits, size = w[y].sum(), w[y & listed].sum(), w[listed].sum()
    return (float(hits / entrants) if entrants > 0 else float("nan"),
            float(hits / size) if size > 0 else float("nan"))


def at_capacity(y: np.ndarray, score: np.ndarray, groups: np.ndarray,
                shares: tuple[float, ...] = CAPACITIES) -> dict[str, float]:
    """``recall_at_5pct``, ``precision_at_5pct``, ... for each capacity share."""
    out = {}
    for share in shares:
        recall, precision = recall_precision(y, top_share(score, groups, share))
        out[f"recall_at_{capacity_key(share)}"] = recall
        out[f"precision_at_{capacity_key(share)}"] = precision
    return out


def capacity_key(share: float) -> str:
    """'5pct' for 0.05: the suffix of every capacity figure's name."""
    return f"{round(share * 100)}pct"


def safe_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC, NaN when only one class is present."""
    y = np.asarray(y)
    return float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else float("nan")


def safe_average_precision(y: np.ndarray, score: np.ndarray) -> float:
    """PR-AUC (average precision), NaN when only one class is present."""
    y = np.asarray(y)
    return float(average_precision_score(y, score)) if 0 < y.sum() < len(y) else float("nan")
