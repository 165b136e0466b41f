"""Each training run reports the features with no measurable contribution and what building the
frame costs per concept (the session's fast training run on the small county)."""

from __future__ import annotations

import pytest

from features.household_frame import CONCEPTS
from training.feature_value import NO_SIGNAL_AUC_DROP, feature_value_json


def test_every_model_feature_is_valued_against_the_threshold(trained_small):
    _, _, result = trained_small
    value = result.feature_value
    table = {r["feature"]: r for r in value["features"]}
    assert set(table) == set(result.model.feature_names_)
    assert value["threshold_auc_drop"] == NO_SIGNAL_AUC_DROP and value["rows"] == min(result.counts["calibrate_rows"], 2000)
    assert value["no_contribution"] == [f for f, r in table.items() if r["auc_drop"] < NO_SIGNAL_AUC_DROP]
    # a feature the trees never split on cannot move the margin: its drop is exactly zero
    for name in value["zero_gain"]:
        assert table[name]["auc_drop"] == 0 and name in value["no_contribution"]
    # the strongest features carry signal well above the threshold
    assert value["features"][0]["auc_drop"] > 10 * NO_SIGNAL_AUC_DROP
    assert 0 < len(value["no_contribution"]) < len(table)


def test_frame_cost_per_stage_and_concept_adds_up(trained_small):
    _, _, result = trained_small
    cost = result.feature_value["frame_cost"]
    assert cost["households"] > 1000 and cost["seconds"] > 0
    assert set(cost["stages"]) == {"registry rows", "members", "context", "income", "household", "events",
                                   "monitoring", "village"}
    assert sum(s["seconds"] for s in cost["stages"].values()) == pytest.approx(cost["seconds"], abs=0.01)
    assert sum(cost["concepts"].values()) == pytest.approx(cost["seconds"], abs=0.01)
    assert {"income_level", "illness", "disability", "age_structure"} <= set(cost["concepts"])
    assert set(cost["concepts"]) <= set(CONCEPTS) | {"shared", "context columns"}


def test_training_json_prints_them(trained_small):
    _, _, result = trained_small
    printed = feature_value_json(result.feature_value)
    assert printed["features_without_contribution"] == result.feature_value["no_contribution"]
    assert printed["frame_cost_seconds"]["income_level"] > 0


def test_concepts_without_contribution_name_their_cost(trained_small):
    from features.household_frame import FRAME_COLUMNS
    from training.feature_value import idle_concepts

    _, _, result = trained_small
    value = result.feature_value
    idle = idle_concepts(value, value["frame_cost"])
    assert idle  # the small county's fast model leaves some concepts without signal
    for row in idle:
        assert set(row["features"]) <= set(value["no_contribution"])
        assert row["seconds"] == value["frame_cost"]["concepts"][row["concept"]]
    # a concept with one feature that carries signal is not idle
    strongest = value["features"][0]["feature"]
    if strongest in FRAME_COLUMNS:
        assert FRAME_COLUMNS[strongest].concept not in {r["concept"] for r in idle}


def test_a_concept_is_idle_only_when_all_its_features_are_silent():
    from training.feature_value import idle_concepts

    value = {"no_contribution": ["safe_water", "n_chronic"],
             "features": [{"feature": f} for f in ("safe_water", "n_chronic", "n_major_illness", "social_assistance")]}
    cost = {"concepts": {"water": 0.01, "illness": 0.5}}
    # water's one feature is silent; illness still has n_major_illness; social_assistance is no frame column
    assert idle_concepts(value, cost) == [{"concept": "water", "seconds": 0.01, "features": ["safe_water"]}]
