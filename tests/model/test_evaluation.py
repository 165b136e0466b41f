"""Evaluation arithmetic and gate decisions on hand-made numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models import metrics as mt
from training import evaluate as ev
from training.gates import decide
from training.table import binarise_target, identifying_columns
from training.tuning import draw_candidates


def test_ece_is_zero_for_perfect_calibration_and_large_for_overconfidence():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.3, 200_000)
    y = (rng.random(len(p)) < p).astype(int)
    assert mt.expected_calibration_error(y, p) < 0.003
    assert mt.expected_calibration_error(y, np.clip(p * 2, 0, 1)) > 0.1


def test_top_share_lists_the_top_five_percent_of_each_cutoff():
    score = np.r_[np.arange(100), np.arange(40)]
    groups = np.r_[np.zeros(100), np.ones(40)]
    listed = mt.top_share(score, groups, 0.05)
    assert listed[:100].sum() == 5 and listed[:100][-5:].all()
    assert listed[100:].sum() == 2 and listed[-2:].all()  # ceil(0.05 * 40)


def test_recall_at_capacity_counts_entrants_caught_by_the_list():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0] * 2)
    score = np.array([9, 0, 1, 2, 3, 4, 5, 6, 7, 8] * 2, dtype=float)
    m = ev.score_metrics(y, score, np.repeat([0, 1], 10), probability=False)
    assert m["recall_at_10pct"] == pytest.approx(0.5)  # one of two entrants per cutoff
    assert m["precision_at_10pct"] == pytest.approx(1.0)
    assert np.isnan(m["ece"])


def test_lead_time_from_first_listing_before_entry():
    weeks = pd.date_range("2025-01-05", periods=30, freq="7D")
    listings = pd.DataFrame({"household_id": ["A"] * 3 + ["B"], "week": [weeks[2], weeks[3], weeks[20], weeks[25]]})
    entries = pd.DataFrame({"household_id": ["A", "B", "C"], "entry_date": [weeks[22], weeks[24], weeks[10]]})
    lead = ev.lead_times(listings, entries, horizon_weeks=52)
    # A first listed 20 weeks before entry; B only listed after its entry; C never listed.
    assert lead["share_warned"] == pytest.approx(1 / 3)
    assert lead["median_lead_weeks"] == pytest.approx(20)
    assert lead["median_lead_weeks_all"] == 0
    assert lead["share_lead_12w"] == pytest.approx(1 / 3) and lead["share_lead_4w"] == pytest.approx(1 / 3)


def test_headroom_share():
    assert ev.headroom_share(0.8, 0.9) == pytest.approx(0.75)
    assert ev.headroom_share(0.8, None) is None


def _metrics(auc, recall, ece_relative=0.05, top5_oe=1.0, **more):
    return {"auc": auc, "recall_at_5pct": recall, "ece_relative": ece_relative, "top5_observed_expected": top5_oe,
            **more}


def test_first_version_must_beat_the_stronger_rules():
    hand_set, fitted = _metrics(0.70, 0.20), _metrics(0.75, 0.25)
    assert decide(_metrics(0.80, 0.35), hand_set, None, None, fitted_rules=fitted).alias == "champion"
    # Beats the hand-set weights but not the fitted ones: the stronger baseline decides.
    between = decide(_metrics(0.74, 0.24), hand_set, None, None, fitted_rules=fitted)
    assert between.alias == "challenger" and "stronger rules" in between.reason
    first_bad = decide(_metrics(0.65, 0.35), hand_set, None, None)
    assert first_bad.alias == "challenger" and "rules" in first_bad.reason


@pytest.mark.parametrize("candidate, words", [
    (_metrics(0.80, 0.35, ece_relative=0.2), "of the base rate"),
    (_metrics(0.80, 0.35, ece_relative=float("nan")), "not measurable"),
    (_metrics(0.80, 0.35, top5_oe=0.80), "top-5% observed/expected"),
    (_metrics(0.80, 0.35, top5_oe=1.2), "top-5% observed/expected"),
    (_metrics(0.80, 0.35, share_warned=0.20, random_list_lead_share=0.15), "random list"),
])
def test_protection_gates_apply_to_the_first_version_too(candidate, words):
    rules = _metrics(0.70, 0.20)
    first = decide(candidate, rules, None, None)
    assert first.alias == "challenger" and words in first.reason
    later = decide(candidate, rules, None, _metrics(0.80, 0.35))
    assert later.alias == "challenger" and words in later.reason


def test_calibration_is_judged_only_with_enough_entrants():
    rules = _metrics(0.70, 0.20)
    few = decide(_metrics(0.80, 0.35, ece_relative=0.3, test_entrants=45), rules, None, None)
    assert few.alias == "champion" and not few.checks["calibration_judged"]
    many = decide(_metrics(0.80, 0.35, ece_relative=0.3, test_entrants=450), rules, None, None)
    assert many.alias == "challenger" and "of the base rate" in many.reason


def test_gates_against_the_champion():
    rules = _metrics(0.70, 0.20)
    champion = _metrics(0.80, 0.35)
    assert decide(_metrics(0.798, 0.345), rules, None, champion).alias == "champion"  # within tolerance
    worse = decide(_metrics(0.78, 0.30), rules, None, champion)
    assert worse.alias == "challenger"
    assert "AUC" in worse.reason and "recall" in worse.reason
    assert decide(_metrics(0.80, 0.35, share_warned=0.6, random_list_lead_share=0.2), rules, None,
                  champion).alias == "champion"


def test_slice_gate_fails_a_slice_far_below_the_county_unless_its_interval_reaches_it():
    rules, champion = _metrics(0.70, 0.20), _metrics(0.80, 0.35)
    slices = pd.DataFrame({"slice": ["township"] * 4, "value": ["A", "B", "C", "D"], "entrants": [50, 50, 10, 50],
                           "model_recall_at_5pct": [0.20, 0.20, 0.0, 0.33],
                           "model_recall_at_5pct_high": [0.30, 0.40, 0.1, 0.45]})
    low = decide(_metrics(0.81, 0.36), rules, slices, champion)
    # A: 0.16 below and its interval stops at 0.30; B's interval reaches 0.36; C has too few
    # entrants to judge; D is within 0.05.
    assert low.alias == "challenger" and "township=A" in low.reason
    assert "township=B" not in low.reason and "township=C" not in low.reason and "township=D" not in low.reason
    assert decide(_metrics(0.81, 0.36), rules, slices.iloc[1:], champion).alias == "champion"


def test_households_meeting_no_criterion_are_judged_against_the_rules_not_the_county():
    rules, champion = _metrics(0.70, 0.20), _metrics(0.80, 0.35)
    slices = pd.DataFrame({"slice": ["no_criterion"], "value": ["true"], "entrants": [400],
                           "model_recall_at_5pct": [0.25], "model_recall_at_5pct_high": [0.28],
                           "rules_recall_at_5pct": [0.08], "rules_fitted_recall_at_5pct": [0.13]})
    assert decide(_metrics(0.81, 0.36), rules, slices, champion).alias == "champion"
    worse = slices.assign(rules_fitted_recall_at_5pct=0.3)
    failed = decide(_metrics(0.81, 0.36), rules, worse, champion)
    assert failed.alias == "challenger" and "no_criterion=true" in failed.reason and "stronger rules" in failed.reason


def test_one_rounding_of_capacity_everywhere():
    """A list holds ceil(share x n) rows, in training and in the performance monitor."""
    from monitoring.performance import _metrics as realised

    rng = np.random.default_rng(3)
    p = rng.random(130)
    y = (rng.random(130) < p).astype(int)
    listed = mt.top_share(p, np.zeros(130), 0.05)
    assert listed.sum() == 7  # ceil(6.5); rounding would give 6
    assert realised(y, p, listed)["recall_at_capacity"] == pytest.approx(mt.at_capacity(y, p, np.zeros(130))[
        "recall_at_5pct"])
    assert realised(y, p, listed)["ece"] == pytest.approx(mt.expected_calibration_error(y, p))


def test_observed_expected_and_the_calibration_table():
    y = np.array([1, 0, 0, 0, 1, 0, 0, 0, 0, 0] * 4)
    p = np.full(len(y), 0.1)
    assert mt.observed_expected(y, p) == pytest.approx(2.0)
    assert mt.observed_expected(y, p, weight=np.r_[np.ones(20), np.zeros(20)]) == pytest.approx(2.0)
    table = ev.calibration_table(y, p * np.linspace(0.5, 1.5, len(y)), np.repeat(["c1", "c2"], 20))
    assert list(table["where"]) == ["overall", "cutoff", "cutoff", "top 5%", "top 10%"]
    assert table.loc[0, "observed"] == 8 and table.loc[0, "expected"] == pytest.approx(p.sum())


def test_weighted_auc_and_average_precision_match_scikit_learn():
    from sklearn.metrics import average_precision_score, roc_auc_score

    from training.uncertainty import RankedScore

    rng = np.random.default_rng(0)
    y = (rng.random(3000) < 0.1).astype(int)
    score = np.round(rng.random(3000) + y * 0.5, 2)  # rounded: many ties
    w = rng.integers(0, 3, 3000).astype(float)
    auc, ap = RankedScore(y, score).auc_ap(w)
    assert auc == pytest.approx(roc_auc_score(y, score, sample_weight=w))
    assert ap == pytest.approx(average_precision_score(y, score, sample_weight=w))
    assert RankedScore(y, score).auc_ap()[0] == pytest.approx(roc_auc_score(y, score))


def test_household_clustered_bootstrap_is_wider_than_a_row_bootstrap():
    from training.uncertainty import bootstrap

    rng = np.random.default_rng(1)
    households = np.repeat(np.arange(400), 8)  # each household at 8 cutoffs, its outcome repeated
    risk = np.repeat(rng.random(400), 8)
    y = np.repeat((rng.random(400) < 0.15).astype(int), 8)
    scores = {"model": risk + y * 0.3, "rules": risk}
    groups = np.tile(np.arange(8), 400)
    clustered = bootstrap(y, scores, groups, households, replicates=200, seed=0)
    rows = bootstrap(y, scores, groups, np.arange(len(y)), replicates=200, seed=0)
    width = lambda ci: ci[1] - ci[0]  # noqa: E731
    assert width(clustered["model"]["auc"]) > 1.8 * width(rows["model"]["auc"])
    low, high = clustered["model"]["recall_at_5pct"]
    assert low <= mt.at_capacity(y, scores["model"], groups)["recall_at_5pct"] <= high
    assert clustered["households"] == 400 and clustered["recall_ratio_ci"][0] > 1


def test_random_list_of_the_same_coverage_warns_about_its_coverage():
    weeks = pd.date_range("2024-01-07", periods=104, freq="7D")
    households = np.array([f"h{i}" for i in range(1000)])
    # The list warns of every entrant 10 weeks ahead and covers 100 of 1,000 households.
    entrants = households[:100]
    entries = pd.DataFrame({"household_id": entrants, "entry_date": weeks[60]})
    listings = pd.DataFrame({"household_id": entrants, "week": weeks[50]})
    assert ev.lead_times(listings, entries)["share_warned"] == 1.0
    assert ev.list_coverage(listings, 1000) == pytest.approx(0.1)
    random = ev.random_list_lead(listings, entries, households, draws=30, seed=0)
    assert 0.05 < random["share_warned"] < 0.15


def test_recall_headroom():
    assert ev.recall_headroom({"oracle": 0.59, "model": 0.39, "rules": 0.21}) == pytest.approx(0.18 / 0.38)
    assert ev.recall_headroom({"oracle": 0.2, "model": 0.39, "rules": 0.21}) is None


def test_tuning_candidates_are_reproducible_and_start_with_the_config():
    base = {"num_leaves": 31, "learning_rate": 0.05}
    space = {"num_leaves": [15, 31, 63], "learning_rate": [0.03, 0.05, 0.08]}
    a, b = draw_candidates(base, space, 4, seed=1), draw_candidates(base, space, 4, seed=1)
    assert a == b and a[0] == base and len(a) == 5 and len({tuple(sorted(c.items())) for c in a}) == 5


@pytest.mark.parametrize("values, positive, how", [
    (["是", "否", "否", "是"], [1, 0, 0, 1], "yes/no"),
    ([0, 1, 1, 0], [0, 1, 1, 0], "yes/no"),
    ([2, 5, 5, 2], [0, 1, 1, 0], "two classes"),
    (["低"] * 10 + ["中"] * 6 + ["高"] * 4, [0] * 10 + [0] * 6 + [1] * 4, "ordinal"),
    # 4 alone is 2%, 3-4 are 4%: classes are added from the top until >= 5% are positive.
    ([1] * 90 + [2] * 6 + [3] * 2 + [4] * 2, [0] * 90 + [1] * 10, "ordinal"),
])
def test_target_binarisation(values, positive, how):
    y, text = binarise_target(pd.Series(values))
    assert list(y.astype(int)) == positive and how in text


def test_identifying_columns_are_found_by_header_and_by_shape():
    table = pd.DataFrame({"户主姓名": ["张三"], "证号": ["43112819600101123X"], "tel": ["13912345678"],
                          "收入": [1000.0], "乡镇": ["古邵镇"]})
    assert set(identifying_columns(table)) == {"户主姓名", "证号", "tel"}


@pytest.mark.parametrize("auc, alias", [(0.549, "challenger"), (0.50, "challenger"), (0.55, "champion"),
                                        (0.70, "champion")])
def test_first_version_without_rules_must_be_clearly_above_chance(auc, alias):
    """A table without the rules' fields (no rules baseline, no champion): AUC 0.55 at least."""
    from training.gates import DEFAULT_GATES

    assert DEFAULT_GATES["first_auc_min"] == 0.55
    logistic = {"auc": 0.61}
    first = decide(_metrics(auc, 0.30), None, None, None, logistic=logistic)
    assert first.alias == alias and first.checks["above_chance"] == (alias == "champion")
    if alias == "challenger":
        assert first.reason.startswith(f"AUC {auc:.3f} is not clearly above chance (0.55)")
    else:
        assert "first version; no rules baseline" in first.reason and "logistic baseline 0.610" in first.reason
    # A deployment's own floor is the one that counts.
    assert decide(_metrics(0.60, 0.30), None, None, None, {"first_auc_min": 0.65}).alias == "challenger"
