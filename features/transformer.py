"""The feature builder: household frame -> model matrix, as a scikit-learn transformer.

It lives inside the logged model, so whatever scores a household (the weekly job, Spark, a
researcher's notebook) turns the same frame into the same matrix. Identifiers, township and village
never reach the model: the score of a household must not depend on its ID or its address.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from features.model_features import CATEGORICAL_FEATURES, MODEL_FEATURES, NUMERIC_FEATURES

__all__ = ["CATEGORICAL_FEATURES", "MODEL_FEATURES", "NUMERIC_FEATURES", "FeatureBuilder"]


def _as_float(col: pd.Series) -> np.ndarray:
    # Nullable booleans and integers carry pd.NA, which plain float conversion refuses.
    if col.dtype == object or isinstance(col.dtype, pd.StringDtype):
        col = pd.to_numeric(col, errors="coerce")
    return col.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


class FeatureBuilder(TransformerMixin, BaseEstimator):
    """Select and type the model's features from a household frame.

    Numbers and booleans become float64; coded attributes become pandas categories over their
    contract vocabulary, with unseen values mapped to missing (LightGBM then treats them as
    missing rather than guessing a category).
    """

    def __init__(self, features: tuple[str, ...] | None = None):
        self.features = features

    def fit(self, X: pd.DataFrame, y=None):  # noqa: N803 - scikit-learn's argument name
        chosen = tuple(self.features) if self.features is not None else MODEL_FEATURES
        missing = [c for c in chosen if c not in X.columns]
        if missing:
            raise ValueError(f"household frame lacks feature columns: {missing}")
        self.feature_names_out_ = np.array(chosen, dtype=object)
        self.n_features_in_ = len(chosen)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        names = list(self.feature_names_out_)
        missing = [c for c in names if c not in X.columns]
        if missing:
            raise ValueError(f"household frame lacks feature columns: {missing}")
        out = {}
        for name in names:
            col = X[name]
            if name in CATEGORICAL_FEATURES:
                categories = list(CATEGORICAL_FEATURES[name])
                values = col.astype("object")
                values = values.where(values.isin(categories))  # unseen -> missing, explicitly
                out[name] = pd.Categorical(values, categories=categories)
            else:
                out[name] = _as_float(col)
        return pd.DataFrame(out, index=X.index)

    def get_feature_names_out(self, input_features=None):
        return self.feature_names_out_
