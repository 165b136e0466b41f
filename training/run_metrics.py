"""MLflow metric histories of a training run beyond the headline: the feature-value report, the
staleness curve and the rolling-origin backtest (called inside the active run)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from features.json_safe import plain
from training.feature_value import idle_concepts


def metric_key(text: str) -> str:
    """An MLflow metric name from free text (township and category names): characters MLflow
    refuses become '_', and '%' becomes 'pct'."""
    return re.sub(r"[^\w.\-/]", "_", text.replace("%", "pct"))


def _finite(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items()
            if isinstance(v, (int, float, np.floating, np.integer)) and v is not None and np.isfinite(v)}


def log_feature_value(value: dict[str, Any]) -> None:
    """Into the active run: how many features carry no measurable contribution, each feature's AUC
    drop, and the frame's seconds per stage and concept; the whole table as an artifact."""
    import mlflow

    if not value:
        return
    cost = value.get("frame_cost") or {}  # a researcher's own table has no household frame
    mlflow.log_metrics({"features.no_contribution": len(value["no_contribution"]),
                        "features.zero_gain": len(value["zero_gain"]),
                        "features.permutation_base_auc": value["base_auc"],
                        **{metric_key(f"permutation_auc_drop.{r['feature']}"): r["auc_drop"]
                           for r in value["features"]},
                        **{metric_key(f"frame_seconds.{k}"): v for k, v in cost.get("concepts", {}).items()},
                        **({"frame_seconds.total": cost["seconds"]} if cost else {})})
    idle = idle_concepts(value, cost) if cost else []
    if cost:
        mlflow.log_metric("features.idle_concepts", len(idle))
    mlflow.log_dict(plain({**value, "concepts_without_contribution": idle}), "evaluation/feature_value.json")


def log_backtest(backtest, holdout: dict[str, Any]) -> None:
    """Per backtest year (step = the year's index, newest 0) and pooled: the model's figures, every
    baseline's recall at 5%, the chosen calibrator; the held-out quarter's check."""
    import mlflow

    if backtest is None:
        return
    for step, year in enumerate(backtest.years):
        mlflow.log_metrics(_finite({f"backtest.{k}": year.get(k) for k in (
            "auc", "recall_at_5pct", "top5_observed_expected", "ece_relative", "observed_expected", "entrants")}),
            step=step)
    for name, figures in backtest.pooled.items():
        mlflow.log_metrics(_finite({f"backtest.pooled.{name}.{k}": v for k, v in figures.items()}))
        low, high = backtest.intervals.get(name, {}).get("recall_at_5pct", [None, None])
        mlflow.log_metrics(_finite({f"backtest.pooled.{name}.recall_at_5pct_low": low,
                                    f"backtest.pooled.{name}.recall_at_5pct_high": high}))
    mlflow.set_tags({"calibrator": ",".join(str(c["chosen"]) for c in backtest.calibrators),
                     "shock_township_years": "; ".join(f"{r['year']} {r['township']}" for r in
                                                       backtest.shocks.to_dict(orient="records"))[:4900],
                     "strongest_baseline": str(backtest.strongest)})
    if holdout:
        mlflow.set_tag("served_gate", "passed" if holdout.get("passed") else "; ".join(holdout.get("reasons", []))[:4900])
        mlflow.log_metrics(_finite({f"served_holdout.{k}": v for k, v in (holdout.get("model") or {}).items()}))


def log_staleness(staleness: dict[str, Any]) -> None:
    """The staleness curve as metric histories (step = the trees' age in weeks, so the MLflow UI
    draws quality against age) and the limit the weekly job alerts on."""
    import mlflow

    if not staleness.get("measured"):
        return
    for point in staleness["curve"]:  # one call per point: one per figure was a store round trip each
        mlflow.log_metrics({f"staleness.{key}": float(value) for key, value in point.items()
                            if key not in ("cutoff", "age_weeks") and value is not None}, step=int(point["age_weeks"]))
    mlflow.log_metrics(_finite({f"staleness.{k}": staleness.get(k) for k in (
        "slope_per_week", "limit_age_weeks", "limit_weeks_after_data_end", "served_age_at_data_end",
        "auc_tolerance")}))
