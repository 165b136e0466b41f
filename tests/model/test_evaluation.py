"""Evaluation arithmetic and gate decisions on hand-made numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training import evaluate as ev
from training.gates import decide
from training.table import binarise_target, identifying_columns
from training.tuning import draw_candidates


def test_ece_is_zero_for_perfect_calibration_and_large_for_overconfidence():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.3, 200_000)
    y = (rng.random(len(p)) < p).astype(int)
    assert ev.expected_calibration_error(y, p) < 0.003
    assert ev.expected_calibration_error(y, np.clip(p * 2, 0, 1)) > 0.1


def test_top_share_lists_the_top_five_percent_of_each_cutoff():
    score = np.r_[np.arange(100), np.arange(40)]
    groups = np.r_[np.zeros(100), np.ones(40)]
    listed = ev.top_share(score, groups, 0.05)
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


def _metrics(auc, recall, ece=0.01):
    return {"auc": auc, "recall_at_5pct": recall, "ece": ece}


def test_gates():
    rules = _metrics(0.70, 0.20)
    assert decide(_metrics(0.80, 0.35), rules, None, None).alias == "champion"
    first_bad = decide(_metrics(0.65, 0.35), rules, None, None)
    assert first_bad.alias == "challenger" and "rules" in first_bad.reason
    champion = _metrics(0.80, 0.35)
    assert decide(_metrics(0.798, 0.345), rules, None, champion).alias == "champion"  # within tolerance
    worse = decide(_metrics(0.78, 0.30, ece=0.05), rules, None, champion)
    assert worse.alias == "challenger"
    assert "AUC" in worse.reason and "recall" in worse.reason and "ECE" in worse.reason
    slices = pd.DataFrame({"slice": ["township", "township"], "value": ["A", "B"], "entrants": [50, 5],
                           "model_recall_at_10pct": [0.05, 0.0]})
    low = decide(_metrics(0.81, 0.36), rules, slices, champion)
    assert low.alias == "challenger" and "township=A" in low.reason and "township=B" not in low.reason


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
