"""Explanations follow the model: changing what a reason names moves the score the way it says,
and changing what it does not name leaves the reasons alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.household_frame import build_household_frame
from features.policy import load_policy
from models.explanation import explain, feature_concept
from tests.explain_county import CUTOFF


@pytest.fixture(scope="module")
def explained(explain_county, explain_model):
    _, frame, _ = explain_county
    return explain(explain_model, frame, None, load_policy())


def _typical(frame: pd.DataFrame, column: str):
    col = frame[column]
    if not pd.api.types.is_numeric_dtype(col) or col.dtype == bool:
        return col.mode().iloc[0]
    return col.median()


def test_removing_the_top_reason_lowers_the_probability(explain_county, explain_model, explained):
    # Set every feature of the top raising concept to the county's typical value: the reason is
    # gone, so the risk should fall (TreeSHAP is not a counterfactual, so ask it of most rows).
    _, frame, _ = explain_county
    names = explain_model.feature_names_
    rows = [i for i, e in enumerate(explained) if e.reasons and e.reasons[0]["contribution"] > 0.3]
    assert len(rows) >= 100
    changed = frame.iloc[rows].copy()
    for j, i in enumerate(rows):
        concept = explained[i].reasons[0]["concept"]
        for feature in names:
            if feature_concept(feature) == concept:
                changed.iloc[j, changed.columns.get_loc(feature)] = _typical(frame, feature)
    before = np.array([explained[i].probability for i in rows])
    after = explain_model.predict_proba(changed)[:, 1]
    assert np.mean(after < before) >= 0.9
    assert np.mean(before - after) > 0.05


def _rebuilt_probability(model, tables, edit) -> pd.Series:
    changed = {k: v.copy() for k, v in tables.items()}
    edit(changed)
    frame = build_household_frame(changed, CUTOFF, load_policy())
    return pd.Series(model.predict_proba(frame)[:, 1], index=frame["household_id"])


def _latest_surveys(surveys: pd.DataFrame, ids: list[str]) -> pd.Index:
    latest = surveys.loc[surveys["household_id"].isin(ids)].sort_values("survey_year").groupby("household_id").tail(1)
    return latest.index


@pytest.mark.parametrize(
    ("concept", "column", "factor", "plus"),
    [
        # More out-of-pocket medical spending where medical spending is the top reason.
        ("medical_spending", "medical_out_of_pocket", 2.0, 5000.0),
        # Lower wages and business income (in both survey years, so that the income level falls
        # but the change on last year does not) where the income level is the top reason.
        ("income_level", "business_income", 0.6, 0.0),
    ],
)
def test_pushing_the_top_reason_further_raises_the_probability(
    explain_county, explain_model, explained, concept, column, factor, plus
):
    tables, frame, _ = explain_county
    ids = [e.household_id for e in explained if e.reasons and e.reasons[0]["concept"] == concept]
    assert len(ids) >= 30, f"too few households whose top reason is {concept}"

    def edit(t):
        surveys = t["income_surveys"]
        idx = surveys.index[surveys["household_id"].isin(ids)] if concept == "income_level" else _latest_surveys(surveys, ids)
        t["income_surveys"].loc[idx, column] = t["income_surveys"].loc[idx, column] * factor + plus
        if column == "business_income":
            t["income_surveys"].loc[idx, "wage_income"] *= factor

    before = pd.Series([e.probability for e in explained], index=frame["household_id"])[ids]
    after = _rebuilt_probability(explain_model, tables, edit)[ids]
    # Trees are not monotone: where training data is thin (incomes far under the line) a step
    # further can wobble the score by a point or two. A move a reader would notice (two
    # percentage points) must almost never go the wrong way, and the average must go the right way.
    diff = after - before
    assert np.mean(diff >= -0.02) >= 0.85
    assert np.mean(diff > 0.02) > 2 * np.mean(diff < -0.02)
    assert diff.mean() > 0.05


def test_reasons_do_not_move_when_a_feature_the_model_ignores_changes(explain_county, explain_model, explained):
    _, frame, _ = explain_county
    importance = dict(zip(explain_model.feature_names_, explain_model.booster_.feature_importances_, strict=True))
    unused = [f for f, v in importance.items() if v == 0 and pd.api.types.is_numeric_dtype(frame[f])]
    assert unused, "every feature is used; pick a larger frame"
    changed = frame.copy()
    for f in unused:
        col = changed[f]
        changed[f] = ~col if col.dtype == bool else col.fillna(0) + 3
    # Identifiers and addresses never reach the model either.
    changed["township"] = "别的镇"
    changed["village"] = "别的村"
    again = explain(explain_model, changed, None, load_policy())
    for a, b in zip(explained, again, strict=True):
        assert a.contributions == b.contributions
        assert [r["text_zh"] for r in a.reasons] == [r["text_zh"] for r in b.reasons]


def test_top_reason_is_stable_under_a_small_change_in_an_unrelated_feature(explain_county, explain_model, explained):
    # Nudge the village context (a concept that is rarely a top reason) by one percentage point.
    _, frame, _ = explain_county
    rows = [i for i, e in enumerate(explained) if e.reasons and e.reasons[0]["concept"] != "context"]
    changed = frame.iloc[rows].copy()
    changed["village_monitored_share"] = changed["village_monitored_share"] + 0.01
    again = explain(explain_model, changed, None, load_policy())
    same = np.mean([explained[i].reasons[0]["concept"] == e.reasons[0]["concept"] if e.reasons else False
                    for i, e in zip(rows, again, strict=True)])
    assert same >= 0.95
