"""Model health on small hand-built inputs: the sanity of every score names households and
features, the confidence-based estimate is the expectation it claims to be, the library check
names what differs, and the staleness check alerts past the limit only (issue 22)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.sanity import ScoreSanityError, check_probabilities
from monitoring import model_health as mh
from monitoring.estimation import estimated_performance, expected_auc, list_estimate
from monitoring.versions import compare_versions
from training.staleness import _limit


def _frame(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame({"household_id": [f"H{i:03d}" for i in range(n)],
                         "pc_net_income": np.linspace(5000, 9000, n), "n_members": np.arange(1, n + 1)})


def test_finite_scores_in_range_pass():
    check_probabilities(np.array([0.0, 0.1, 0.5, 0.9, 1.0, 0.2]), _frame())


def test_a_nan_score_names_the_household_and_its_non_finite_feature():
    frame = _frame()
    frame.loc[2, "pc_net_income"] = np.inf
    frame.loc[4, "n_members"] = 400  # beyond every other household's range
    p = np.array([0.1, 0.2, np.nan, 0.3, 1.5, 0.2])
    with pytest.raises(ScoreSanityError) as caught:
        check_probabilities(p, frame, columns=["pc_net_income", "n_members"], where="2025-W48")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("2025-W48: 2 of 6 households")
    assert "H002" in message and "pc_net_income=inf" in message
    assert "H004" in message and "n_members=400" in message
    assert caught.value.households == ["H002", "H004"]
    assert caught.value.features == {"H002": ["pc_net_income=inf"], "H004": ["n_members=400"]}


def test_a_broken_model_is_blamed_when_no_input_is_unusual():
    with pytest.raises(ScoreSanityError, match="model artifact itself is at fault"):
        check_probabilities(np.full(6, np.nan), _frame())
    with pytest.raises(ScoreSanityError, match="probabilities for"):
        check_probabilities(np.zeros(5), _frame())


def test_the_estimate_is_the_expectation_over_outcomes_drawn_from_the_probabilities():
    rng = np.random.default_rng(0)
    p = rng.beta(0.5, 12, size=400)
    est = estimated_performance(p, 0.05)
    listed = np.zeros(len(p), bool)
    listed[np.argsort(-p)[:20]] = True
    assert est["listed"] == 20
    assert est["estimated_precision_at_capacity"] == pytest.approx(p[listed].mean())
    assert est["estimated_recall_at_capacity"] == pytest.approx(p[listed].sum() / p.sum())
    # Outcomes drawn from the probabilities: realised hits on the list average to the expectation,
    # and the AUC's average lands next to the expected AUC (a ratio: close, not equal).
    draws = rng.random((3000, len(p))) < p
    assert draws[:, listed].sum(axis=1).mean() == pytest.approx(p[listed].sum(), rel=0.03)
    from sklearn.metrics import roc_auc_score

    aucs = [roc_auc_score(y, p) for y in draws[:300] if 0 < y.sum() < len(y)]
    assert np.mean(aucs) == pytest.approx(expected_auc(p), abs=0.01)
    assert est["estimated_precision_at_capacity_low"] < est["estimated_precision_at_capacity"] \
        < est["estimated_precision_at_capacity_high"]


def test_the_estimate_of_a_given_list_and_of_nothing():
    p = np.array([0.5, 0.5, 0.0, 0.0])
    est = list_estimate(p, np.array([True, False, False, False]))
    assert est["estimated_recall_at_capacity"] == pytest.approx(0.5)
    assert est["estimated_precision_at_capacity"] == pytest.approx(0.5)
    assert expected_auc(np.array([1.0, 0.0])) == pytest.approx(1.0)
    assert list_estimate(np.zeros(0), np.zeros(0, bool))["estimated_recall_at_capacity"] is None


def test_library_versions_name_what_differs():
    installed = {"lightgbm": "4.7.0", "numpy": "2.4.6", "shap": None}
    same = compare_versions({"lightgbm": "4.7.0", "numpy": "2.4.6"}, installed)
    assert same["checked"] and not same["differ"] and not same["alerts"]
    changed = compare_versions({"lightgbm": "4.6.0", "numpy": "2.4.6", "shap": "0.51.0"}, installed, week="2025-W48")
    assert [d["package"] for d in changed["differ"]] == ["lightgbm", "shap"]
    assert "lightgbm 4.6.0 -> 4.7.0" in changed["alerts"][0]["message_en"]
    assert "shap 0.51.0 -> 未安装/missing" in changed["alerts"][0]["message_zh"]
    assert compare_versions(None, installed)["checked"] is False


def test_staleness_alerts_only_past_the_measured_limit():
    metrics = {"served": {"data_end": "2025-01-05"},
               "staleness": {"measured": True, "limit_weeks_after_data_end": 30.0,
                             "limit_weeks_after_data_end_ci": [20.0, 30.0]}}
    end = pd.Timestamp("2025-01-05")
    fresh = mh.staleness(end + pd.Timedelta(weeks=30), metrics, None, week="w")
    assert fresh["checked"] and not fresh["stale"] and not fresh["alerts"] and fresh["limit_source"] == "measured"
    stale = mh.staleness(end + pd.Timedelta(weeks=31), metrics, None, week="w")
    assert stale["stale"] and stale["alerts"][0]["kind"] == "model_stale"
    assert "31 weeks ago" in stale["alerts"][0]["message_en"]
    # Without a measured curve the old rule applies, and says it is the default.
    old = mh.staleness(end + pd.Timedelta(weeks=53), {}, end, week="w")
    assert old["limit_source"] == "default" and old["stale"]
    assert mh.staleness(end, {}, None)["checked"] is False


def test_the_limit_is_where_the_line_falls_by_the_tolerance_and_never_past_the_cap():
    assert _limit(0.8, -0.001, 70.0, 0.02, 200.0) == pytest.approx(90.0)
    assert _limit(0.8, -0.001, 70.0, 0.02, 80.0) == 80.0
    assert _limit(0.8, 0.0005, 70.0, 0.02, 126.0) == 126.0  # no decay measured: the cap
