"""Baselines the model must beat, scored on the same rows.

- The official rules priority score (``features.rules``): how a county office ranks households
  to visit today, without a model.
- A logistic regression on the same features: is the boosted model worth its complexity?
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from features.policy import Policy
from features.rules import evaluate_rules
from features.transformer import CATEGORICAL_FEATURES, NUMERIC_FEATURES, FeatureBuilder


def rules_score(frame: pd.DataFrame, policy: Policy) -> np.ndarray:
    """The rules priority score of each row (higher = visit first)."""
    return evaluate_rules(frame, policy)["rules_priority_score"].to_numpy(dtype=float)


def _as_text(x: pd.DataFrame) -> pd.DataFrame:
    # OneHotEncoder wants one type per column; categories with missing values become "missing".
    return x.astype("object").where(x.notna(), "missing").astype(str)


def logistic_baseline(random_state: int = 0, C: float = 1.0) -> Pipeline:  # noqa: N803 - sklearn's name
    """Feature builder, then median imputation (with missing indicators) + scaling for numbers and
    one-hot for coded attributes, then an L2 logistic regression."""
    numeric = list(NUMERIC_FEATURES)
    categorical = list(CATEGORICAL_FEATURES)
    columns = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                                  StandardScaler()), numeric),
            ("cat", make_pipeline(FunctionTransformer(_as_text, feature_names_out="one-to-one"),
                                  OneHotEncoder(handle_unknown="ignore")), categorical),
        ]
    )
    return Pipeline(
        [
            ("builder", FeatureBuilder()),
            ("columns", columns),
            ("logistic", LogisticRegression(C=C, max_iter=500, random_state=random_state)),
        ]
    )
