"""Baselines the model must beat, scored on the same rows.

- The official rules priority score (``features.rules``): how a county office ranks households
  to visit today, without a model.
- The fitted rules: a logistic regression on the same rule flags and income-to-line, fit on the
  training part. An office that weighed its own flags by experience would rank about this well;
  the hand-set weights can be weaker than sorting by income alone, so the model's gates and
  headline ratios compare with the stronger of the two.
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
from features.rules import RULE_NAMES, evaluate_rules
from features.transformer import CATEGORICAL_FEATURES, NUMERIC_FEATURES, FeatureBuilder


def rules_score(frame: pd.DataFrame, policy: Policy) -> np.ndarray:
    """The rules priority score of each row (higher = visit first)."""
    return evaluate_rules(frame, policy)["rules_priority_score"].to_numpy(dtype=float)


def no_criterion(frame: pd.DataFrame, policy: Policy) -> np.ndarray:
    """Rows meeting no official criterion at the cutoff: where a warning is truly early."""
    return ~evaluate_rules(frame, policy)["rules_triggered"].to_numpy(dtype=bool)


class FittedRules:
    """Logistic regression on the rule flags and income-to-line (sklearn-style fit/predict_proba)."""

    def __init__(self, policy: Policy, random_state: int = 0, C: float = 1.0):  # noqa: N803 - sklearn's name
        self.policy = policy
        self.random_state = random_state
        self.C = C

    def features(self, frame: pd.DataFrame) -> np.ndarray:
        """Rule flags (0/1), income-to-line (clipped to 0..5, missing as 5 with an indicator) and
        its reciprocal (the hand-set score's tie-break), as a matrix."""
        rules = evaluate_rules(frame, self.policy)
        flags = rules[[f"rule_{name}" for name in RULE_NAMES]]
        income = pd.to_numeric(frame["income_to_line"], errors="coerce").astype(float)
        missing = income.isna().to_numpy(dtype=float)
        income = income.fillna(5.0).clip(0, 5).to_numpy()
        return np.column_stack([flags.to_numpy(dtype=float), income, 1 / (1 + income), missing])

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> FittedRules:
        self.model_ = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=500,
                                                                         random_state=self.random_state))
        self.model_.fit(self.features(frame), np.asarray(y).astype(int))
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.model_.predict_proba(self.features(frame))


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
