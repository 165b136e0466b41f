"""Reusing last week's TreeSHAP values where they cannot have changed.

TreeSHAP's values for a row depend on the row only through the side it takes at every split of
every tree. Two rows that fall between the same split thresholds of every feature the model uses
(the same *split cell*) therefore get identical contributions and base value, and the same margin.
So when a household listed this week was explained last week by the same model version and its
model input lies in the same split cell as last week's, its stored contributions are reused and
only the cheap parts (margin, probability, reasons, measures, rule triggers) are computed again.
The margin is always computed fresh, and the explanation's additivity check holds every reused
row to it: a wrong reuse would fail the check instead of being stored.

Reasons are rebuilt this week because their text quotes this week's values (for example the
weeks since the income survey), which can move without crossing a split.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

_ZERO = 1e-35  # LightGBM's zero threshold (missing_type "Zero" treats |x| <= this as missing)


def _split_points(booster: Any) -> tuple[dict[int, np.ndarray], set[int]]:
    """Sorted numeric thresholds per feature index, and the features used in categorical splits."""
    thresholds: dict[int, set[float]] = {}
    categorical: set[int] = set()
    stack = [tree["tree_structure"] for tree in booster.dump_model()["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_feature" not in node:
            continue
        feature = int(node["split_feature"])
        if node.get("decision_type") == "==":
            categorical.add(feature)
        else:
            thresholds.setdefault(feature, set()).add(float(node["threshold"]))
        stack += [node["left_child"], node["right_child"]]
    return {f: np.array(sorted(t), dtype="float64") for f, t in thresholds.items()}, categorical


@cache
def _points_of(model: Any) -> tuple[dict[int, np.ndarray], set[int]]:
    return _split_points(model.booster_.booster_)


def split_cells(model: Any, matrix: pd.DataFrame) -> np.ndarray:
    """Per row and feature, which side of every split the value takes (an integer code): rows with
    equal codes take the same path through every tree, for every subset TreeSHAP explores."""
    thresholds, categorical = _points_of(model)
    codes = np.zeros(matrix.shape, dtype="int64")
    for j in range(matrix.shape[1]):
        column = matrix.iloc[:, j]
        if j in categorical:  # a category's split tests the value itself: equal values only
            text = column.astype(str).to_numpy(dtype=object)
            codes[:, j] = pd.util.hash_array(text).view("int64")
            continue
        if j not in thresholds:
            continue
        x = pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64")
        nan = np.isnan(x)
        zero = np.abs(x) <= _ZERO
        codes[:, j] = np.searchsorted(thresholds[j], np.where(nan, 0.0, x), side="left") * 4 + nan + 2 * zero
    return codes


def reusable(model: Any, now: pd.DataFrame, before: pd.DataFrame,
             stored: Mapping[str, tuple[np.ndarray, float]]) -> dict[str, tuple[np.ndarray, float]]:
    """Of last week's contributions (``stored``: household id -> (contributions in the model's
    feature order, base value)), those that hold this week.

    Args:
        model: this week's model (the same version that explained last week: the caller checks).
        now: this week's frame rows of the candidates.
        before: last week's frame rows of the same households (any order; missing ones are skipped).
        stored: last week's contributions and base values.
    """
    if now.empty or before.empty or not stored:
        return {}
    now = now.loc[now["household_id"].isin(before["household_id"]) & now["household_id"].isin(list(stored))]
    if now.empty:
        return {}
    before = before.drop_duplicates("household_id").set_index("household_id").loc[now["household_id"]].reset_index()
    columns = [c for c in now.columns if c in before.columns]
    now = now[columns].reset_index(drop=True)
    same = (split_cells(model, model.transform_features(now))
            == split_cells(model, model.transform_features(before[columns]))).all(axis=1)
    return {h: stored[h] for h in now.loc[same, "household_id"]}


def payload_contributions(payload: Mapping[str, Any], names: list[str]) -> tuple[np.ndarray, float] | None:
    """(contributions in ``names`` order, base value) of a stored explanation, or None if incomplete."""
    values = payload.get("contributions") or {}
    if payload.get("base_value") is None or any(values.get(n) is None for n in names):
        return None
    return np.array([values[n] for n in names], dtype="float64"), float(payload["base_value"])


def contributions(model: Any, frame: pd.DataFrame, known: Mapping[str, tuple[np.ndarray, float]]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(contributions, base values, margins) of a batch: TreeSHAP only for rows not in ``known``;
    margins always from the model."""
    from models.explanation import contributions_matrix
    from models.pipeline import prediction_threads

    ids = frame["household_id"].astype(str).to_numpy()
    reuse = np.array([h in known for h in ids], dtype=bool)
    if not reuse.any():
        return contributions_matrix(model, frame)
    margin = np.asarray(model.booster_.predict(model.transform_features(frame), raw_score=True,
                                               num_threads=prediction_threads()), dtype="float64")
    contrib = np.empty((len(frame), len(model.feature_names_)), dtype="float64")
    base = np.empty(len(frame), dtype="float64")
    for i in np.flatnonzero(reuse):
        contrib[i], base[i] = known[ids[i]]
    if (~reuse).any():
        fresh = frame.loc[~reuse].reset_index(drop=True)
        contrib[~reuse], base[~reuse], _ = contributions_matrix(model, fresh)
    return contrib, base, margin
