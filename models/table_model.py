"""A risk model for any household table (a survey, another county's system, a panel study).

Same shape as :class:`models.pipeline.RiskPipeline` (builder + LightGBM + calibrator as one
estimator, the same ``raw_score`` / ``calibrate`` / ``predict_proba``), but the builder learns the
table's columns at fit time instead of reading the fanpin household frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from features import vocabulary as voc
from models.pipeline import RiskPipeline

MAX_CATEGORIES = 50
YES = {str(w).lower() for w in voc.BOOLEAN_WORDS[True]}
NO = {str(w).lower() for w in voc.BOOLEAN_WORDS[False]}


def yes_no(col: pd.Series) -> pd.Series | None:
    """1.0/0.0 for a column of yes/no words ('是'/'否', 'yes'/'no', ...), else None."""
    text = col.dropna().astype(str).str.strip().str.lower()
    if text.empty or not text.isin(YES | NO).all():
        return None
    mapped = col.astype(object).map(lambda v: np.nan if pd.isna(v) else
                                    1.0 if str(v).strip().lower() in YES else 0.0)
    return mapped.astype("float64")


def as_number(col: pd.Series) -> pd.Series | None:
    """The column as float64 when (nearly) every present value is a number, else None."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    if pd.api.types.is_numeric_dtype(col.dtype):
        return pd.Series(col.astype("Float64").to_numpy(dtype="float64", na_value=np.nan), index=col.index)
    words = yes_no(col)
    if words is not None:
        return words
    numbers = pd.to_numeric(col.astype(object).where(col.notna(), None), errors="coerce")
    present = col.notna().sum()
    if present and numbers.notna().sum() >= 0.98 * present:
        return numbers.astype("float64")
    return None


class TableFeatures(TransformerMixin, BaseEstimator):
    """Learn which columns are numbers (incl. yes/no words) and which are categories.

    Categories (e.g. Chinese category names) keep the values seen in training; unseen values
    become missing. Text columns with more than ``max_categories`` distinct values (names, free
    text, identifiers) are dropped, never used.
    """

    def __init__(self, exclude: tuple[str, ...] = (), max_categories: int = MAX_CATEGORIES):
        self.exclude = exclude
        self.max_categories = max_categories

    def fit(self, X: pd.DataFrame, y=None):  # noqa: N803
        self.numeric_: list[str] = []
        self.categories_: dict[str, list[str]] = {}
        self.dropped_: dict[str, str] = {}
        for name in X.columns:
            if name in self.exclude:
                continue
            col = X[name]
            if pd.api.types.is_datetime64_any_dtype(col.dtype):
                self.dropped_[name] = "date"
                continue
            if as_number(col) is not None:
                self.numeric_.append(name)
                continue
            values = sorted(col.dropna().astype(str).unique())
            if len(values) > self.max_categories:
                self.dropped_[name] = f"{len(values)} distinct values (text or identifier)"
                continue
            self.categories_[name] = values
        self.feature_names_out_ = np.array(self.numeric_ + list(self.categories_), dtype=object)
        self.n_features_in_ = len(self.feature_names_out_)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        out: dict[str, Any] = {}
        for name in self.numeric_:
            values = as_number(X[name]) if name in X else None
            out[name] = np.full(len(X), np.nan) if values is None else np.asarray(values, dtype="float64")
        for name, categories in self.categories_.items():
            col = X[name].astype(object).where(X[name].notna(), None).map(lambda v: None if v is None else str(v)) \
                if name in X else pd.Series([None] * len(X), index=X.index)
            col = col.where(col.isin(categories))
            out[name] = pd.Categorical(col, categories=categories)
        return pd.DataFrame(out, index=X.index)

    def get_feature_names_out(self, input_features=None):
        return self.feature_names_out_


class TableModel(RiskPipeline):
    """Any household table -> calibrated probability of the (binarised) target.

    Args:
        exclude: columns never used as features (the ID, the time column, the target).
        lgbm_params, calibration, random_state: as for :class:`RiskPipeline`.
    """

    def __init__(
        self,
        exclude: tuple[str, ...] = (),
        lgbm_params: dict[str, Any] | None = None,
        calibration: str = "sigmoid",
        random_state: int = 0,
        monotone: dict[str, int] | None = None,
    ):
        super().__init__(lgbm_params=lgbm_params, calibration=calibration, random_state=random_state,
                         features=None, monotone=monotone)
        self.exclude = exclude

    def _new_builder(self):
        return TableFeatures(exclude=tuple(self.exclude))
