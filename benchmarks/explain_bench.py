"""Explanation cost against accuracy: AUC and TreeSHAP throughput for a few model sizes.

Exact TreeSHAP costs grow with trees x leaves x depth, so the model should be no larger than its
accuracy needs. :func:`measure` fits one RiskPipeline per size on the same training rows and
reports test AUC, the cost of the batch ``pred_contrib`` call alone, and households explained per
second by the full ``models.explanation.explain`` (contributions, grouping, sentences, rules,
measures). :func:`run` does it on a simulated county's matured training rows (time split).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd

SIZES: tuple[tuple[int, int], ...] = ((50, 7), (100, 15), (200, 31), (400, 63))


def measure(train: pd.DataFrame, y_train, test: pd.DataFrame, y_test, *, sizes=SIZES, explain_rows: int = 2000,
            calib: tuple[pd.DataFrame, Any] | None = None) -> list[dict[str, Any]]:
    """One row per (trees, leaves): AUC, TreeSHAP ms per household, households explained per second.

    Args:
        train, y_train: training frame rows and labels.
        test, y_test: later rows for AUC and for timing the explanations.
        sizes: (n_estimators, num_leaves) pairs.
        explain_rows: how many test rows to explain per size (one batch).
        calib: optional (frame, labels) for the calibrator (default: the training rows).
    """
    from features.policy import load_policy
    from features.rules import evaluate_rules
    from models.explanation import contributions_matrix, explain
    from models.measures import load_measures
    from models.metrics import safe_auc
    from models.pipeline import RiskPipeline

    policy, measures = load_policy(), load_measures()
    batch = test.iloc[:explain_rows].reset_index(drop=True)
    rules = evaluate_rules(batch, policy)
    out = []
    for trees, leaves in sizes:
        model = RiskPipeline(lgbm_params={"n_estimators": trees, "num_leaves": leaves}, random_state=0)
        cx, cy = calib if calib is not None else (None, None)
        started = time.perf_counter()
        model.fit(train, y_train, cx, cy)
        fit_s = time.perf_counter() - started
        auc = safe_auc(np.asarray(y_test).astype(int), model.predict_proba(test)[:, 1])

        started = time.perf_counter()
        contrib, base, margin = contributions_matrix(model, batch)
        shap_s = time.perf_counter() - started
        error = max(abs(math.fsum(r) + b - m) for r, b, m in zip(contrib, base, margin, strict=True))

        started = time.perf_counter()
        explain(model, batch, rules, policy, measures)
        full_s = time.perf_counter() - started
        out.append({
            "trees": trees, "leaves": leaves, "auc": round(auc, 4), "fit_seconds": round(fit_s, 2),
            "rows_explained": len(batch), "treeshap_ms_per_household": round(1000 * shap_s / len(batch), 3),
            "explain_households_per_second": round(len(batch) / full_s, 1),
            "max_additivity_error": float(error),
        })
    return out


def run(households: int = 3000, explain_rows: int = 2000) -> dict[str, Any]:
    """``measure`` on a simulated county (cached by ``benchmarks.prepare``), split by cutoff."""
    from benchmarks import prepare as prep
    from features.policy import load_policy
    from training.county_data import read_history
    from training.dataset import LABEL, build_training_rows, cutoff_schedule, data_end, data_start

    folder, _ = prep.county(households)
    tables, _ = read_history(folder)
    cutoffs = cutoff_schedule(data_start(tables), data_end(tables), step_weeks=8, horizon_weeks=52, warmup_weeks=52)
    rows = build_training_rows(tables, load_policy(), cutoffs)
    order = sorted(rows["cutoff"].unique())
    test_mask = rows["cutoff"].isin(order[-2:]).to_numpy()
    calib_mask = rows["cutoff"].isin(order[-4:-2]).to_numpy()
    train_mask = ~(test_mask | calib_mask)
    results = measure(rows.loc[train_mask], rows.loc[train_mask, LABEL], rows.loc[test_mask], rows.loc[test_mask, LABEL],
                      explain_rows=explain_rows, calib=(rows.loc[calib_mask], rows.loc[calib_mask, LABEL]))
    return {"households": households, "train_rows": int(train_mask.sum()), "test_rows": int(test_mask.sum()),
            "sizes": results}


def report(result: dict[str, Any]) -> str:
    """The figures as a small text table."""
    lines = [f"explanations: {result.get('households', '?')} households, "
             f"{result.get('train_rows', '?')} training rows, {result.get('test_rows', '?')} test rows",
             "trees leaves    AUC  TreeSHAP ms/hh  explained hh/s  max additivity error"]
    for r in result["sizes"]:
        lines.append(f"{r['trees']:>5} {r['leaves']:>6} {r['auc']:>6.3f} {r['treeshap_ms_per_household']:>15.3f} "
                     f"{r['explain_households_per_second']:>15.1f} {r['max_additivity_error']:>21.2e}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
