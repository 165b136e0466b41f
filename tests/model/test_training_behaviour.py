"""Behaviour a county office relies on: illness and disability never lower a household's risk, its
ID never changes its score, and the same seed gives the same scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.household_frame import build_household_frame
from models.pipeline import DEFAULT_MONOTONE, RiskPipeline
from training.dataset import LABEL


@pytest.fixture(scope="module")
def scored_week(trained_small):
    """The households of the last test cutoff, their registry, and the model."""
    tables, policy, result = trained_small
    cutoff = max(result.split.test)
    return tables, policy, result.model, cutoff


def _healthy_adults(tables, cutoff, n=40) -> pd.DataFrame:
    m = tables["members"]
    current = m.loc[(m["valid_from"] <= cutoff) & (m["valid_to"].isna() | (m["valid_to"] > cutoff))]
    age = (cutoff - current["birth_date"]).dt.days / 365.25
    chosen = current.loc[(current["health"] == "healthy") & (current["disability_type"] == "none") & (age.between(20, 55))]
    return chosen.drop_duplicates("household_id").head(n)


def _with_member_change(tables, cutoff, members: pd.DataFrame, **change) -> dict[str, pd.DataFrame]:
    """A new version of each chosen member from the day before the cutoff, with ``change`` applied."""
    day = cutoff - pd.Timedelta(days=1)
    m = tables["members"].copy()
    current = (m["member_id"].isin(members["member_id"])) & (m["valid_from"] <= cutoff) & (
        m["valid_to"].isna() | (m["valid_to"] > cutoff))
    new = m.loc[current].copy()
    m.loc[current, "valid_to"] = day
    new["valid_from"] = day
    for key, value in change.items():
        new[key] = pd.Series([value] * len(new), index=new.index).astype(m[key].dtype)
    return {**tables, "members": pd.concat([m, new], ignore_index=True)}


@pytest.mark.parametrize("change", [
    {"health": "major"},
    {"disability_type": "physical", "disability_grade": 1, "labour_skill": "lost"},
], ids=["major_illness", "severe_disability"])
def test_illness_or_severe_disability_never_lowers_risk(scored_week, change):
    tables, policy, model, cutoff = scored_week
    chosen = _healthy_adults(tables, cutoff)
    before = build_household_frame(tables, cutoff, policy).set_index("household_id").loc[chosen["household_id"]]
    after_tables = _with_member_change(tables, cutoff, chosen, **change)
    after = build_household_frame(after_tables, cutoff, policy).set_index("household_id").loc[chosen["household_id"]]
    # The change reached the frame...
    if "health" in change:
        assert (after["n_major_illness"] == before["n_major_illness"] + 1).all()
    else:
        assert (after["n_severe_disabled"] == before["n_severe_disabled"] + 1).all()
    p_before = model.predict_proba(before.reset_index())[:, 1]
    p_after = model.predict_proba(after.reset_index())[:, 1]
    assert (p_after >= p_before - 1e-12).all(), np.min(p_after - p_before)
    # ... and it matters: the average risk of the chosen households rises by at least a tenth (a
    # small county's 80 trees split on severe disability rarely, so not every household moves).
    rose = (p_after > p_before).mean()
    assert rose > 0.25 and p_after.mean() > 1.1 * p_before.mean(), (rose, p_before.mean(), p_after.mean())


def test_household_id_does_not_change_the_score(scored_week):
    tables, policy, model, cutoff = scored_week
    frame = build_household_frame(tables, cutoff, policy)
    renamed = {name: t.assign(household_id="X" + t["household_id"].astype(str)) if "household_id" in t else t
               for name, t in tables.items()}
    frame2 = build_household_frame(renamed, cutoff, policy)
    assert (frame2["household_id"] == "X" + frame["household_id"]).all()
    np.testing.assert_array_equal(model.predict_proba(frame), model.predict_proba(frame2))
    shuffled = frame.assign(household_id=np.random.default_rng(0).permutation(frame["household_id"].to_numpy()))
    np.testing.assert_array_equal(model.predict_proba(frame), model.predict_proba(shuffled))


def test_same_seed_same_scores(trained_small):
    _, _, result = trained_small
    train = result.test_frame  # any labelled rows will do; refit twice from scratch
    params = {**result.best_params, "n_estimators": 40}
    a = RiskPipeline(lgbm_params=params, random_state=3, monotone=DEFAULT_MONOTONE).fit(train, train[LABEL])
    b = RiskPipeline(lgbm_params=params, random_state=3, monotone=DEFAULT_MONOTONE).fit(train, train[LABEL])
    np.testing.assert_array_equal(a.predict_proba(train), b.predict_proba(train))
    c = RiskPipeline(lgbm_params=params, random_state=4, monotone=DEFAULT_MONOTONE).fit(train, train[LABEL])
    assert not np.array_equal(a.predict_proba(train), c.predict_proba(train))  # the seed is used


def test_model_beats_rules_on_the_small_county(trained_small):
    """The officers' list is the top 5%: there the model must find more entrants than the county's
    rules, and rank them better (PR-AUC). AUC over the whole ranking is not asserted: on 1,500
    households both AUCs' intervals span about 0.17 (0.68-0.84 and 0.69-0.86 on this county)."""
    _, _, result = trained_small
    m = result.metrics
    assert m["recall_at_5pct"] > m["rules_recall_at_5pct"] and m["pr_auc"] > m["rules_pr_auc"], m
    assert 0 <= m["ece"] < 0.05
    assert result.counts["test_rows"] > 0 and result.counts["train_rows"] > result.counts["test_rows"]
    assert set(result.slices["slice"]) >= {"township", "category", "elderly_only", "disabled_member",
                                           "chronic_or_major_illness", "minority_township"}
