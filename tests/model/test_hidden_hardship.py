"""Hidden hardship as a second target (training.hidden_hardship) and the audit-weighted training
run logged in MLflow beside the entry-only model (training.audit_training)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.dataset import LABEL
from training.hidden_hardship import audit_targets, hardship_figures, recall_with_interval


def _rows():
    cutoffs = pd.to_datetime(["2024-03-03", "2024-03-31", "2024-04-28", "2024-05-26"])
    ids = [f"H{i:03d}" for i in range(200)]
    rows = pd.DataFrame([(h, c, "甲镇" if i < 150 else "乙镇") for c in cutoffs for i, h in enumerate(ids)],
                        columns=["household_id", "cutoff", "township"])
    rows[LABEL] = (rows["household_id"].isin(ids[:6])).astype(int)
    # H000-H039 spend 8 weeks in hardship after every cutoff (H000-H005 also enter: not hidden)
    weeks = [c + pd.Timedelta(weeks=k) for c in cutoffs for k in range(1, 9)]
    truth = pd.DataFrame([(h, w) for h in ids[:40] for w in weeks], columns=["household_id", "week_end"])
    return rows, truth.drop_duplicates()


def test_audit_targets_label_and_weight_only_the_audited():
    rows, truth = _rows()
    y, w, audited = audit_targets(rows, truth, 52, share=0.1, seed=1)
    # 2024-03-03 (Q1) and 2024-04-28 (first of Q2) open a quarter: 10% of each township's non-entrants
    assert sorted(rows.loc[audited, "cutoff"].dt.strftime("%m-%d").unique()) == ["03-03", "04-28"]
    assert audited.sum() == 2 * (round(0.1 * 144) + round(0.1 * 50))
    assert (rows.loc[audited, LABEL] == 0).all()
    assert set(np.round(w[audited], 3)) == {round(144 / 14, 3), 10.0} and (w[~audited] == 1).all()
    hard = rows["household_id"].isin([f"H{i:03d}" for i in range(40)]).to_numpy()
    assert (y[audited & hard] == 1).all() and (y[audited & ~hard] == 0).all()
    assert (y[~audited] == rows.loc[~audited, LABEL]).all()
    again = audit_targets(rows, truth, 52, share=0.1, seed=1)
    assert (again[2] == audited).all()
    assert w[audited].max() > 10 and audit_targets(rows, truth, 52, share=0.1, seed=1, max_weight=5)[1].max() == 5


def test_carry_quarter_labels_the_audited_households_other_rows_of_that_quarter():
    rows, truth = _rows()
    y0, w0, audited0 = audit_targets(rows, truth, 52, share=0.1, seed=1)
    y, w, audited = audit_targets(rows, truth, 52, share=0.1, seed=1, carry_quarter=True)
    carried = audited & ~audited0
    # Q1 holds 03-03 and 03-31, Q2 04-28 and 05-26: each audited household's second row of its quarter
    assert sorted(rows.loc[carried, "cutoff"].dt.strftime("%m-%d").unique()) == ["03-31", "05-26"]
    assert carried.sum() == audited0.sum()
    first = rows.loc[audited0].assign(q=rows["cutoff"].dt.quarter).set_index(["household_id", "q"])
    later = rows.loc[carried].assign(q=rows["cutoff"].dt.quarter)
    assert set(zip(later["household_id"], later["q"], strict=True)) == set(first.index)
    hard = rows["household_id"].isin([f"H{i:03d}" for i in range(40)]).to_numpy()
    assert (y[carried & hard] == 1).all() and (y[carried & ~hard] == 0).all()
    assert np.allclose(w[carried], pd.Series(w0[audited0], index=first.index).loc[
        list(zip(later["household_id"], later["q"], strict=True))].to_numpy())
    assert (y[~audited] == rows.loc[~audited, LABEL]).all() and (w[~audited] == 1).all()


def test_recall_on_hidden_hardship_counts_only_rows_never_entered():
    rows, truth = _rows()
    # the score lists H000-H019 at every cutoff (10%): 14 of the 34 hidden-hardship households
    score = np.where(rows["household_id"].str[1:].astype(int) < 20, 1.0, 0.0) + 1e-3 * np.arange(len(rows))[::-1]
    figures = hardship_figures(rows, {"model": score}, truth, 52, capacity=0.1, replicates=50)
    assert figures["hidden_hardship_rows"] == 4 * 34 and figures["hardship_rows"] == 4 * 40
    assert figures["recall_hidden_hardship"] == pytest.approx(14 / 34, abs=1e-4)
    low, high = figures["recall_hidden_hardship_ci"]
    assert low <= 14 / 34 <= high
    assert figures["by_scorer"]["model"]["recall_entrants"] == 1.0
    assert recall_with_interval(np.zeros(5, bool), np.ones(5, bool), np.arange(5)) == (None, [None, None])


def test_audit_weighted_run_is_logged_with_both_targets(sim_run, tmp_path):
    import mlflow

    from features.policy import load_policy
    from training.audit_training import compare_audit_training, log_comparison
    from training.config import load_config
    from training.dataset import build_training_rows

    policy = load_policy()
    config = load_config(overrides={"model": {"lgbm": {"n_estimators": 40, "num_leaves": 7, "min_child_samples": 20}}})
    tables = sim_run.tables
    sundays = pd.date_range("2023-01-01", periods=20, freq="28D")
    parts = {"train": sundays[:12], "calibrate": sundays[13:16], "test": sundays[16:18]}
    rows = {k: build_training_rows(tables, policy, list(v), horizon_weeks=52) for k, v in parts.items()}
    figures = compare_audit_training(tables, policy, config, sim_run.hardship, share=0.05, replicates=20, rows=rows)
    assert figures["audit"]["audited_rows"] > 0 and figures["audit"]["audited_hardship_labels"] > 0
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    run_id = log_comparison(figures, experiment="audit-test")
    metrics = mlflow.MlflowClient().get_run(run_id).data.metrics
    for model in ("entry_only", "audit_weighted"):
        for target in ("hidden_hardship", "entrants"):
            assert f"{model}.recall_{target}_at_5pct" in metrics
            assert metrics[f"{model}.recall_{target}_at_5pct_low"] <= metrics[f"{model}.recall_{target}_at_5pct_high"]
    assert mlflow.MlflowClient().get_run(run_id).data.params["audit_share"] == "0.05"
