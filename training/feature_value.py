"""Which features carry no measurable signal: permutation importance on the calibration part.

The evaluated model (trees fit on the training cutoffs) ranks the calibration part's rows, which
its trees never saw; each model feature's column is shuffled in turn by scikit-learn's
``permutation_importance`` (``repeats`` times, on at
most ``max_rows`` rows; ``feature_value:`` in the training config) and the drop in AUC of
LightGBM's margin is its contribution. The margin
is what the calibrator maps monotonically to the served probability, and shuffling the model
matrix rather than the household frame keeps this to one tree prediction per shuffle.

A feature has *no measurable contribution* when its mean AUC drop is below ``NO_SIGNAL_AUC_DROP``
(0.0005: a twentieth of the gates' 0.005 AUC tolerance, ``training.gates``); features the trees
never split on (zero LightGBM gain) are listed apart: no shuffle can move the margin through them,
so their drop is 0 without predicting (a third of the features on a small county: the step's cost).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from models import metrics as mt
from models.explanation import feature_concept

NO_SIGNAL_AUC_DROP = 0.0005
REPEATS = 2
MAX_ROWS = 20_000


def settings(config: dict[str, Any]) -> dict[str, int]:
    """``repeats`` and ``max_rows`` from the training config's ``feature_value:`` block."""
    block = config.get("feature_value") or {}
    return {"repeats": int(block.get("repeats", REPEATS)), "max_rows": int(block.get("max_rows", MAX_ROWS))}


def feature_value(model, rows: pd.DataFrame, y: np.ndarray, *, seed: int = 0, repeats: int = REPEATS,
                  max_rows: int = MAX_ROWS) -> dict[str, Any]:
    """Permutation importance (AUC drop) and LightGBM gain of every model feature on ``rows``.

    Args:
        model: a fitted ``models.pipeline.RiskPipeline``.
        rows: household-frame rows the trees did not learn from (the calibration part).
        y: their labels.
        seed: the shuffles' and the row sample's seed.
        repeats: shuffles per feature.
        max_rows: rows used at most (a random sample keeps the cost flat on a large county).
    """
    from sklearn.inspection import permutation_importance

    rng = np.random.default_rng(seed)  # the row sample; scikit-learn's shuffles take ``seed`` too
    y = np.asarray(y).astype(int)
    if len(rows) > max_rows:
        take = np.sort(rng.choice(len(rows), size=max_rows, replace=False))
        rows, y = rows.iloc[take], y[take]
    matrix = model.transform_features(rows).reset_index(drop=True)
    booster = model.booster_
    base = mt.safe_auc(y, booster.predict(matrix, raw_score=True))
    gain = dict(zip(model.feature_names_, booster.booster_.feature_importance("gain"), strict=True))
    # Only features the trees split on are shuffled (nothing can move the margin through the
    # others): scikit-learn permutes those columns, the scorer puts them back into the full matrix.
    used = [name for name in model.feature_names_ if gain[name] > 0]

    def margin_auc(_model, part: pd.DataFrame, labels: np.ndarray) -> float:
        full = matrix.copy()
        full[used] = part
        return mt.safe_auc(labels, booster.predict(full, raw_score=True))

    drop: dict[str, tuple[float, float]] = {}
    if used:
        found = permutation_importance(model, matrix[used], y, scoring=margin_auc, n_repeats=repeats,
                                       random_state=seed)
        drop = {name: (float(m), float(sd)) for name, m, sd in
                zip(used, found.importances_mean, found.importances_std, strict=True)}
    table = [{"feature": name, "auc_drop": drop.get(name, (0.0, 0.0))[0], "auc_drop_std": drop.get(name, (0.0, 0.0))[1],
              "gain": float(gain[name])} for name in model.feature_names_]
    table.sort(key=lambda r: r["auc_drop"], reverse=True)
    return {
        "method": "permutation on the calibration part (AUC of the LightGBM margin)",
        "threshold_auc_drop": NO_SIGNAL_AUC_DROP, "repeats": repeats, "rows": len(matrix), "base_auc": base,
        "no_contribution": [r["feature"] for r in table if r["auc_drop"] < NO_SIGNAL_AUC_DROP],
        "zero_gain": [r["feature"] for r in table if r["gain"] == 0],
        "features": table,
    }


def feature_value_json(value: dict[str, Any]) -> dict[str, Any]:
    """The training JSON's lines on feature value: features with no measurable contribution (and
    the threshold), those never split on, and (for a household frame) its seconds per concept."""
    if not value:
        return {}
    out = {"features_without_contribution": value["no_contribution"], "features_zero_gain": value["zero_gain"],
           "no_contribution_threshold_auc_drop": value["threshold_auc_drop"]}
    if "frame_cost" in value:
        out["frame_cost_seconds"] = value["frame_cost"]["concepts"]
        out["concepts_without_contribution"] = idle_concepts(value, value["frame_cost"])
    return out


def idle_concepts(value: dict[str, Any], cost: dict[str, Any]) -> list[dict[str, Any]]:
    """Concepts whose every model feature has no measurable contribution, with what building them
    costs (``features.frame_cost``): the candidates for leaving out of the frame."""
    silent = set(value["no_contribution"])
    features: dict[str, list[str]] = {}
    for r in value["features"]:  # coded attributes (category, policy status, ...) count for their concept too
        features.setdefault(feature_concept(r["feature"]), []).append(r["feature"])
    return [{"concept": c, "seconds": cost["concepts"].get(c, 0.0), "features": names}
            for c, names in features.items() if set(names) <= silent]
