"""TreeSHAP explanations: exact additivity, an independent check of the values, lossless grouping."""

from __future__ import annotations

import itertools
import json
import math

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from features.household_frame import CONCEPTS
from features.policy import load_policy
from features.rules import CRITERIA, evaluate_rules
from models.explanation import (
    ADDITIVITY_TOLERANCE,
    contributions_matrix,
    explain,
    feature_concept,
    group_contributions,
)


@pytest.fixture(scope="module")
def explanations(explain_county, explain_model):
    _, frame, _ = explain_county
    return explain(explain_model, frame, None, load_policy())


def test_base_plus_contributions_is_the_margin_on_every_row(explain_county, explain_model, explanations):
    _, frame, _ = explain_county
    assert len(explanations) == len(frame) >= 1000
    margin = explain_model.raw_score(frame)
    for e, m in zip(explanations, margin, strict=True):
        total = e.base_value + math.fsum(e.contributions.values())
        assert abs(total - m) <= ADDITIVITY_TOLERANCE
        assert e.additivity_error <= ADDITIVITY_TOLERANCE
        assert e.raw_score == pytest.approx(m, abs=1e-12)
    # The probability people see is the calibrated margin.
    proba = explain_model.predict_proba(frame)[:, 1]
    assert np.allclose([e.probability for e in explanations], proba, atol=1e-12)


def test_explanations_follow_the_frame_order_and_hold_every_model_feature(explain_county, explain_model, explanations):
    _, frame, _ = explain_county
    assert [e.household_id for e in explanations] == frame["household_id"].tolist()
    assert set(explanations[0].contributions) == set(explain_model.feature_names_)


def test_pred_contrib_agrees_with_shaps_own_tree_algorithm_on_a_numeric_model(explain_county, explain_model):
    # shap.TreeExplainer on a LightGBM booster calls pred_contrib itself; handing it the parsed
    # trees makes it run its own C++ TreeSHAP instead (numeric splits only).
    shap = pytest.importorskip("shap")
    _, frame, y = explain_county
    X = explain_model.transform_features(frame).select_dtypes("number")
    booster = lgb.LGBMClassifier(n_estimators=60, num_leaves=15, min_child_samples=20, verbose=-1, n_jobs=1)
    booster.fit(X, y)
    trees = shap.TreeExplainer(booster.booster_).model.trees
    own = shap.TreeExplainer(trees)
    assert own.model.model_type == "internal"
    rows = X.iloc[:400].to_numpy(dtype="float64")
    theirs = own.shap_values(rows)
    ours = booster.booster_.predict(X.iloc[:400], pred_contrib=True)
    assert np.abs(theirs - ours[:, :-1]).max() <= 1e-6
    assert np.abs(np.ravel(own.expected_value)[0] - ours[:, -1]).max() <= 1e-6


def _expected(tree: dict, x: np.ndarray, known: frozenset[int]) -> float:
    """E[f(x) | x_S] under the tree-path-dependent rule: unknown features follow the training
    counts of each branch (what TreeSHAP's ``tree_path_dependent`` perturbation means)."""
    if "leaf_value" in tree:
        return tree["leaf_value"]
    f = tree["split_feature"]
    left, right = tree["left_child"], tree["right_child"]
    if f in known:
        return _expected(left if x[f] <= tree["threshold"] else right, x, known)
    n_left = left.get("leaf_count", left.get("internal_count"))
    n_right = right.get("leaf_count", right.get("internal_count"))
    return (n_left * _expected(left, x, known) + n_right * _expected(right, x, known)) / (n_left + n_right)


def test_pred_contrib_equals_brute_force_shapley_values_on_a_tiny_model():
    rng = np.random.default_rng(3)
    p = 5
    X = rng.normal(size=(3000, p))
    y = (X[:, 0] + X[:, 1] * X[:, 2] - 0.5 * X[:, 3] + rng.normal(size=3000) > 0).astype(int)
    model = lgb.LGBMClassifier(n_estimators=12, num_leaves=6, min_child_samples=30, verbose=-1, n_jobs=1).fit(X, y)
    trees = [t["tree_structure"] for t in model.booster_.dump_model()["tree_info"]]

    def value(x: np.ndarray, known: frozenset[int]) -> float:
        return sum(_expected(t, x, known) for t in trees)

    rows = X[:25]
    contrib = model.booster_.predict(rows, pred_contrib=True)
    for x, c in zip(rows, contrib, strict=True):
        for i in range(p):
            others = [j for j in range(p) if j != i]
            phi = 0.0
            for k in range(p):
                weight = math.factorial(k) * math.factorial(p - k - 1) / math.factorial(p)
                for subset in itertools.combinations(others, k):
                    s = frozenset(subset)
                    phi += weight * (value(x, s | {i}) - value(x, s))
            assert phi == pytest.approx(c[i], abs=1e-6)
        assert value(x, frozenset()) == pytest.approx(c[-1], abs=1e-6)


def test_concept_sums_equal_their_member_contributions_exactly(explanations):
    for e in explanations[:500]:
        members: dict[str, list[float]] = {}
        for feature, value in e.contributions.items():
            members.setdefault(feature_concept(feature), []).append(value)
        assert set(e.concept_contributions) == set(members)
        for concept, values in members.items():
            assert e.concept_contributions[concept] == math.fsum(values)
        # Nothing is lost: the concepts add up to the same margin.
        assert math.fsum(e.concept_contributions.values()) == pytest.approx(math.fsum(e.contributions.values()), abs=1e-12)
    assert group_contributions({"n_chronic": 0.1, "n_major_illness": 0.2, "category": -0.3}) == {
        "illness": math.fsum([0.1, 0.2]),
        "time_since_exit": -0.3,
    }


def test_every_model_feature_has_a_known_concept(explain_model):
    for feature in explain_model.feature_names_:
        assert feature_concept(feature) in CONCEPTS


def test_reasons_are_ordered_limited_and_signed(explanations):
    with_reasons = 0
    for e in explanations:
        assert len(e.reasons) <= 4 and len(e.protective) <= 3
        ups = [r["contribution"] for r in e.reasons]
        downs = [r["contribution"] for r in e.protective]
        assert ups == sorted(ups, reverse=True) and all(v > 0 for v in ups)
        assert downs == sorted(downs) and all(v < 0 for v in downs)
        for r in e.reasons + e.protective:
            assert r["contribution"] == e.concept_contributions[r["concept"]]
            assert r["text_zh"] and r["text_en"]
        with_reasons += bool(e.reasons)
    assert with_reasons > len(explanations) / 2


def test_rule_triggers_are_the_criteria_met_and_kept_apart(explain_county, explanations):
    _, frame, _ = explain_county
    rules = evaluate_rules(frame, load_policy())
    for e, (_, row) in zip(explanations, rules.iterrows(), strict=True):
        met = [n for n in CRITERIA if row[f"rule_{n}"]]
        assert [t["name"] for t in e.rule_triggers] == met
        for t in e.rule_triggers:
            assert t["zh"] == CRITERIA[t["name"]].zh and t["en"] == CRITERIA[t["name"]].en
        assert not {r["concept"] for r in e.reasons} & set(CRITERIA)


def test_level_and_change_since_last_week(explain_county, explain_model):
    _, frame, _ = explain_county
    policy = load_policy()
    sub = frame.iloc[:50]
    previous = pd.Series(0.2, index=sub["household_id"].iloc[:25])
    out = explain(explain_model, sub, None, policy, previous=previous)
    for i, e in enumerate(out):
        assert e.level == policy.level(e.probability)
        assert e.level_zh == {"high": "高", "medium": "中", "low": "低"}[e.level]
        if i < 25:
            assert e.previous_probability == 0.2
            assert e.change == pytest.approx(e.probability - 0.2)
        else:
            assert e.change is None and e.previous_probability is None
    assert {e.level for e in explain(explain_model, frame, None, policy)} == {"high", "medium", "low"}


def test_to_dict_is_json_safe(explanations):
    for e in explanations[:200]:
        d = e.to_dict()
        text = json.dumps(d, ensure_ascii=False, allow_nan=False)
        back = json.loads(text)
        for key in ("household_id", "probability", "level", "base_value", "contributions", "additivity_error",
                    "reasons", "protective", "rule_triggers", "measures"):
            assert key in back
        for r in back["reasons"]:
            assert {"concept", "text_zh", "text_en", "contribution"} <= set(r)


def test_empty_batch_gives_no_explanations(explain_county, explain_model):
    _, frame, _ = explain_county
    assert explain(explain_model, frame.iloc[:0], None, load_policy()) == []


def test_batch_and_single_household_give_the_same_values(explain_county, explain_model, explanations):
    # On-demand explanation of one household must match the weekly batch.
    _, frame, _ = explain_county
    single = explain(explain_model, frame.iloc[[7]], None, load_policy())[0]
    assert single.contributions == pytest.approx(explanations[7].contributions, abs=1e-12)
    assert [r["text_zh"] for r in single.reasons] == [r["text_zh"] for r in explanations[7].reasons]
    contrib, base, margin = contributions_matrix(explain_model, frame.iloc[[7]])
    assert contrib.shape == (1, len(explain_model.feature_names_)) and base.shape == margin.shape == (1,)


def test_contributions_and_scores_do_not_depend_on_the_thread_count(explain_county, explain_model, monkeypatch):
    """The weekly job predicts on every core (models.pipeline.prediction_threads): the figures
    must be exactly those of one thread."""
    import models.pipeline as pipeline

    frame = explain_county[1].head(400)
    monkeypatch.setattr(pipeline, "prediction_threads", lambda: 1)
    one = contributions_matrix(explain_model, frame), explain_model.predict_proba(frame)
    monkeypatch.setattr(pipeline, "prediction_threads", lambda: 2)
    two = contributions_matrix(explain_model, frame), explain_model.predict_proba(frame)
    for a, b in zip([*one[0], one[1]], [*two[0], two[1]], strict=True):
        np.testing.assert_array_equal(a, b)
