"""The risk model: feature builder + LightGBM + probability calibrator as ONE estimator.

One object is logged to MLflow and loaded by alias, so the weekly job, Spark and notebooks all
score with exactly the builder, trees and calibration that were evaluated. Its input is the
household frame (``features.household_frame``); its output the calibrated 12-month probability.
The explainer reads the same object: ``raw_score`` is the LightGBM margin that SHAP decomposes,
``calibrate`` maps a margin to the probability people see.
"""

from __future__ import annotations

import os
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from features.transformer import FeatureBuilder
from models import calibration as cal

DEFAULT_LGBM_PARAMS: dict[str, Any] = {
    "n_estimators": 300,
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 50,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    # One thread is steadier than two when another process shares the cores (DEPENDENCIES.md).
    "n_jobs": 1,
    "verbose": -1,
}

# Domain knowledge the trees must respect, whatever noise the training period holds: more illness,
# disability or hospital stays never lower a household's risk, and more able labour never raises
# it (+1: risk non-decreasing in the feature, -1: non-increasing). Officers would rightly distrust a
# model whose score fell when a member was diagnosed with a major illness.
DEFAULT_MONOTONE: dict[str, int] = {
    "n_major_illness": 1,
    "n_chronic": 1,
    "n_disabled": 1,
    "n_severe_disabled": 1,
    "hospitalisations_13w": 1,
    "hospitalisations_52w": 1,
    "major_diagnosis_13w": 1,
    "able_labour": -1,
    "labour_share": -1,
}


def prediction_threads() -> int:
    """Threads for predictions and contributions: every core. Training keeps ``n_jobs: 1`` for
    reproducible fits, but a row's prediction does not depend on the thread count (tested), and
    the weekly job predicts and explains tens of thousands of rows at once."""
    return os.cpu_count() or 1


class RiskPipeline(ClassifierMixin, BaseEstimator):
    """Household frame -> calibrated probability of entering monitoring within 52 weeks.

    Args:
        lgbm_params: LightGBM parameters (merged over ``DEFAULT_LGBM_PARAMS``).
        calibration: "sigmoid" (Platt scaling on the margin), "isotonic", "spline" (a smooth
            logistic spline, ``models.calibration``) or "auto": the one with the best out-of-time
            top-5% observed/expected and ECE on the calibration rows (``models.calibration.choose``;
            the choice is ``calibration_`` and the comparison ``calibration_table_``).
        random_state: seed for LightGBM's sampling.
        features: optional subset of model features (default: all).
        monotone: feature -> +1/-1 monotone constraints (training passes ``DEFAULT_MONOTONE``;
            None: unconstrained); features not in the model are ignored.
    """

    def __init__(
        self,
        lgbm_params: dict[str, Any] | None = None,
        calibration: str = "sigmoid",
        random_state: int = 0,
        features: tuple[str, ...] | None = None,
        monotone: dict[str, int] | None = None,
    ):
        self.lgbm_params = lgbm_params
        self.calibration = calibration
        self.random_state = random_state
        self.features = features
        self.monotone = monotone

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y, X_calib: pd.DataFrame | None = None, y_calib=None, *,  # noqa: N803
            sample_weight=None):
        """Fit builder and trees on (X, y), then the calibrator on a later, held-out period.

        Calibrating on the training rows would learn the trees' over-confidence; pass the
        validation period as ``X_calib``/``y_calib`` (falls back to the training rows).
        ``sample_weight`` weights the trees' rows (audit labels stand for the households their
        sample represents: ``training.hidden_hardship``); the calibrator is unweighted.
        """
        self.builder_ = self._new_builder().fit(X)
        params = {**DEFAULT_LGBM_PARAMS, **(self.lgbm_params or {}), "random_state": self.random_state}
        monotone = self.monotone or {}
        names = list(self.builder_.get_feature_names_out())
        if any(n in monotone for n in names):
            params["monotone_constraints"] = [int(monotone.get(n, 0)) for n in names]
        self.booster_ = lgb.LGBMClassifier(**params)
        self.booster_.fit(self.builder_.transform(X), np.asarray(y).astype(int), sample_weight=sample_weight)
        self.classes_ = np.array([0, 1])
        cal_X, cal_y = (X, y) if X_calib is None else (X_calib, y_calib)
        self.fit_calibrator(cal_X, cal_y)
        return self

    def _new_builder(self):
        """The transformer from input rows to the model matrix (subclasses for other tables)."""
        return FeatureBuilder(self.features)

    def fit_calibrator(self, X: pd.DataFrame, y) -> RiskPipeline:  # noqa: N803
        """(Re)fit only the calibrator, keeping the trees ("auto": choose it first, out of time)."""
        margin = self.raw_score(X)
        y = np.asarray(y).astype(int)
        if self.calibration == "auto":
            # The window's cutoffs order it in time; a table without them is split by row order.
            when = X["cutoff"].to_numpy() if "cutoff" in X else (np.arange(len(X)) >= len(X) // 2).astype(int)
            chosen, table = cal.choose(margin, y, when)
            # Plain records: the logged model is saved with skops, which does not store DataFrames.
            self.calibration_, self.calibration_table_ = chosen, table.to_dict(orient="records")
        else:
            self.calibration_, self.calibration_table_ = self.calibration, []
        self.calibrator_ = cal.fit_calibrator(self.calibration_, margin, y)
        return self

    # -- scoring -------------------------------------------------------------------------------
    def transform_features(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        """The model matrix the trees see (what SHAP values are computed on)."""
        return self.builder_.transform(X)

    def raw_score(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """LightGBM's margin (log-odds before calibration)."""
        return self.booster_.predict(self.transform_features(X), raw_score=True, num_threads=prediction_threads())

    def calibrate(self, margin: np.ndarray) -> np.ndarray:
        """Calibrated probability for LightGBM margins."""
        return cal.apply_calibrator(getattr(self, "calibration_", self.calibration), self.calibrator_, margin)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        p = self.calibrate(self.raw_score(X))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    @property
    def feature_names_(self) -> list[str]:
        return list(self.builder_.get_feature_names_out())
