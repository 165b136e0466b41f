"""A small, reproducible random search over LightGBM hyperparameters.

Candidates are drawn with a fixed seed, fitted on a fixed-seed sample of the training rows and
ranked by ROC-AUC on the calibration part (a later period, one horizon after training). The test
part is never looked at. The configured parameters are always candidate 0, so tuning can only
replace them with something that did better on validation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from models.pipeline import RiskPipeline


def draw_candidates(base: dict[str, Any], space: dict[str, list[Any]], trials: int, seed: int) -> list[dict[str, Any]]:
    """``base`` followed by ``trials`` random draws from ``space`` (duplicates skipped)."""
    rng = np.random.default_rng(seed)
    candidates = [dict(base)]
    seen = {tuple(sorted(base.items()))}
    attempts = 0
    while len(candidates) < trials + 1 and attempts < 50 * (trials + 1):
        attempts += 1
        draw = {**base, **{k: values[int(rng.integers(len(values)))] for k, values in space.items()}}
        draw = {k: (v.item() if hasattr(v, "item") else v) for k, v in draw.items()}
        key = tuple(sorted(draw.items()))
        if key not in seen:
            seen.add(key)
            candidates.append(draw)
    return candidates


def random_search(
    X_train: pd.DataFrame,  # noqa: N803
    y_train: np.ndarray,
    X_valid: pd.DataFrame,  # noqa: N803
    y_valid: np.ndarray,
    *,
    base: dict[str, Any],
    space: dict[str, list[Any]],
    trials: int,
    seed: int,
    sample_rows: int,
    random_state: int = 0,
    monotone: dict[str, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return (best parameters, one record per candidate with its validation AUC)."""
    candidates = draw_candidates(base, space, trials, seed)
    if trials <= 0:
        return dict(base), []
    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(len(X_train), size=min(sample_rows, len(X_train)), replace=False))
    Xs, ys = X_train.iloc[take], np.asarray(y_train)[take]  # noqa: N806
    records = []
    for i, params in enumerate(candidates):
        model = RiskPipeline(lgbm_params=params, random_state=random_state, monotone=monotone)
        # Calibration does not change a ranking: fit it on the training sample to save time.
        model.fit(Xs, ys)
        auc = float(roc_auc_score(y_valid, model.raw_score(X_valid)))
        records.append({"trial": i, "validation_auc": auc, **params})
        if progress is not None:
            progress(i + 1, len(candidates))
    best = max(records, key=lambda r: (r["validation_auc"], -r["trial"]))
    return {k: best[k] for k in candidates[0]}, records
