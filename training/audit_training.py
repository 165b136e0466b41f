"""Training on what the audits teach, beside the entry-only model, logged as one MLflow run.

Both models are the configured procedure (trees with the configured parameters, calibrated on
the calibration part's entry labels) on the same training rows; the audit model's training labels
are entry OR audit-confirmed hardship, weighted by the sampling probability
(``training.hidden_hardship.audit_targets``). Both are judged on both targets on the same test
rows: entrants, and hidden hardship (the simulator's truth).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from features.policy import Policy
from models.pipeline import RiskPipeline
from training.dataset import LABEL, build_training_rows
from training.hidden_hardship import audit_targets, hardship_figures
from training.split import configured_split


def compare_audit_training(tables: dict[str, pd.DataFrame], policy: Policy, config: dict[str, Any],
                           truth: pd.DataFrame, *, share: float = 0.015, seed: int = 0,
                           max_weight: float | None = None, replicates: int = 200,
                           rows: dict[str, pd.DataFrame] | None = None, carry_quarter: bool = False) -> dict[str, Any]:
    """Fit the entry-only and the audit-weighted model and judge both on both targets.

    Args:
        rows: train / calibrate / test rows already built (the bench reuses them); built here
            from the configured split when None.

    Returns:
        ``hardship_figures`` for scorers ``entry_only`` and ``audit_weighted``, plus ``audit``
        (share, seed, max_weight, audited rows, audited rows in hardship beyond entry).
    """
    horizon = int(config["horizon_weeks"])
    if rows is None:
        _, split = configured_split(tables, config)
        rows = {name: build_training_rows(tables, policy, cutoffs, horizon_weeks=horizon)
                for name, cutoffs in (("train", split.train), ("calibrate", split.calibrate), ("test", split.test))}
    train, calib, test = rows["train"], rows["calibrate"], rows["test"]
    model_cfg = config["model"]

    def fit(y: np.ndarray, weight: np.ndarray | None) -> RiskPipeline:
        return RiskPipeline(lgbm_params=dict(model_cfg["lgbm"]), calibration=model_cfg["calibration"],
                            random_state=int(model_cfg["random_state"])).fit(
            train, y, calib, calib[LABEL].to_numpy(), sample_weight=weight)

    entry_only = fit(train[LABEL].to_numpy(), None)
    y_audit, weight, audited = audit_targets(train, truth, horizon, share=share, seed=seed, max_weight=max_weight,
                                             carry_quarter=carry_quarter)
    audit_weighted = fit(y_audit, weight)
    scores = {"entry_only": entry_only.predict_proba(test)[:, 1], "audit_weighted": audit_weighted.predict_proba(test)[:, 1]}
    figures = hardship_figures(test, scores, truth, horizon, capacity=float(config["capacity"]),
                               replicates=replicates, seed=int(model_cfg["random_state"]))
    figures["audit"] = {"share": share, "seed": seed, "max_weight": max_weight, "carry_quarter": carry_quarter,
                        "audited_rows": int(audited.sum()),
                        "audited_hardship_labels": int((y_audit.astype(bool) & ~train[LABEL].to_numpy().astype(bool)).sum()),
                        "train_rows": len(train), "test_rows": len(test)}
    return figures


def log_comparison(figures: dict[str, Any], *, experiment: str = "fanpin-audit") -> str:
    """One MLflow run holding both models' figures on both targets; returns its run id (the
    tracking URI is the caller's)."""
    import mlflow

    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name="audit-weighted vs entry-only") as run:
        mlflow.log_params({f"audit_{k}": v for k, v in figures["audit"].items()})
        mlflow.set_tag("fanpin.kind", "audit_training")
        mlflow.set_tag("fanpin.data", "simulator truth: figures are not field evidence")
        for model, f in figures["by_scorer"].items():
            for target in ("hidden_hardship", "entrants"):
                value, (low, high) = f[f"recall_{target}"], f[f"recall_{target}_ci"]
                if value is not None:
                    mlflow.log_metric(f"{model}.recall_{target}_at_5pct", value)
                    mlflow.log_metric(f"{model}.recall_{target}_at_5pct_low", low)
                    mlflow.log_metric(f"{model}.recall_{target}_at_5pct_high", high)
            mlflow.log_metric(f"{model}.auc_hardship", f["auc_hardship"])
        mlflow.log_dict(figures, "audit_training.json")
        return run.info.run_id
