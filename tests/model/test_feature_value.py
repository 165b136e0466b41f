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
