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


# The five variables a reviewer's scorecard uses: what an office can read off a household's card.
SCORECARD_COLUMNS = ("elderly_only", "disabled_member", "illness", "able_labour", "income_to_line")


class Scorecard:
    """A 5-variable logistic scorecard: elderly-only, a disabled member, chronic or major illness,
    able labour and income against the line (clipped 0..5, missing as 5 with an indicator)."""

    def __init__(self, random_state: int = 0, C: float = 1.0):  # noqa: N803 - sklearn's name
        self.random_state = random_state
        self.C = C

    @staticmethod
    def features(frame: pd.DataFrame) -> np.ndarray:
        income = pd.to_numeric(frame["income_to_line"], errors="coerce").astype(float)
        missing = income.isna().to_numpy(dtype=float)
        return np.column_stack([
            frame["elderly_only"].astype(float).to_numpy(), (frame["n_disabled"] > 0).to_numpy(dtype=float),
            ((frame["n_chronic"] + frame["n_major_illness"]) > 0).to_numpy(dtype=float),
            pd.to_numeric(frame["able_labour"], errors="coerce").fillna(0).astype(float).to_numpy(),
            income.fillna(5.0).clip(0, 5).to_numpy(), missing])

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> Scorecard:
        self.model_ = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=500,
                                                                         random_state=self.random_state))
        self.model_.fit(self.features(frame), np.asarray(y).astype(int))
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.model_.predict_proba(self.features(frame))


def past_entry_rate(frame: pd.DataFrame, outcomes: pd.DataFrame, households: pd.DataFrame, level: str,
                    weeks: int = 52) -> np.ndarray:
    """Each row's ``level`` (village or township): the share of its households that entered
    monitoring in the ``weeks`` before the row's cutoff (what a location-only list ranks by).
    Ties within a village are broken by the township's rate, so the list is not in row order."""
    where = households.drop_duplicates("household_id").set_index("household_id")
    size = where.groupby(level).size()
    entries = outcomes[["household_id", "entry_date"]].dropna()
    entries = entries.assign(place=entries["household_id"].map(where[level]))
    out = np.zeros(len(frame))
    cutoffs = pd.to_datetime(frame["cutoff"])
    for cutoff in cutoffs.unique():
        rows = (cutoffs == cutoff).to_numpy()
        recent = entries.loc[(entries["entry_date"] > cutoff - pd.Timedelta(weeks=weeks))
                             & (entries["entry_date"] <= cutoff)]
        rate = recent.drop_duplicates("household_id").groupby("place").size() / size
        out[rows] = frame.loc[rows, level].map(rate).fillna(0.0).to_numpy(dtype=float)
    return out


def location_score(frame: pd.DataFrame, outcomes: pd.DataFrame, households: pd.DataFrame, level: str) -> np.ndarray:
    """Past entry rate of the row's village or township (a village list breaks ties by township)."""
    score = past_entry_rate(frame, outcomes, households, level)
    if level == "village":
        score = score + 1e-6 * past_entry_rate(frame, outcomes, households, "township")
    return score


def baseline_scorers(tables: dict[str, pd.DataFrame], policy: Policy, *, C: float, max_rows: int, seed: int):  # noqa: N803
    """A function (training rows, calibration rows) -> {name: frame -> score} fitting every
    baseline on a seeded sample of at most ``max_rows`` training rows: hand-set rules, fitted rules,
    the 5-variable scorecard, village and township past entry rates, logistic. The fitted rules
    and logistic objects are also returned under ``_objects`` (the test part reports them)."""

    def fit(fit_rows: pd.DataFrame, _calib_rows: pd.DataFrame) -> dict:
        pick = np.random.default_rng(seed)
        take = np.sort(pick.choice(len(fit_rows), size=min(max_rows, len(fit_rows)), replace=False))
        sample, y = fit_rows.iloc[take], fit_rows["label"].to_numpy()[take]
        fitted = FittedRules(policy, random_state=seed, C=C).fit(sample, y)
        card = Scorecard(random_state=seed, C=C).fit(sample, y)
        logit = logistic_baseline(random_state=seed, C=C).fit(sample, y)
        outcomes, households = tables["outcomes"], tables["households"]
        return {"rules": lambda f: rules_score(f, policy), "rules_fitted": lambda f: fitted.predict_proba(f)[:, 1],
                "scorecard": lambda f: card.predict_proba(f)[:, 1],
                "village_rate": lambda f: location_score(f, outcomes, households, "village"),
                "township_rate": lambda f: location_score(f, outcomes, households, "township"),
                "logistic": lambda f: logit.predict_proba(f)[:, 1], "_objects": (fitted, logit)}

    return fit
