"""Gates that can fail (issue 28): a candidate trained on labels shuffled within township, judged
by the same rolling-origin backtest as the real procedure, is refused against the strongest
baseline with a one-line reason; its backtest is what the gates read, not the test part alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.pipeline import RiskPipeline
from training.baselines import baseline_scorers
from training.dataset import LABEL, build_training_rows
from training.gates import decide
from training.headline import pooled_headline
from training.rolling import backtest_splits, run_backtest
from training.split import configured_split


def shuffled_within_township(rows: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The same rows with labels permuted among households of the same township and cutoff: the
    township's entry rate survives, every household-level signal is gone."""
    out = rows.copy()
    rng = np.random.default_rng(seed)
    labels = out[LABEL].to_numpy().copy()
    for idx in out.groupby(["cutoff", "township"]).indices.values():
        labels[idx] = rng.permutation(labels[idx])
    out[LABEL] = labels
    return out


@pytest.fixture(scope="module")
def backtest_rows(trained_small):
    tables, policy, result = trained_small
    cutoffs, _ = configured_split(tables, result.config)
    splits = backtest_splits(cutoffs, result.config)
    needed = sorted(set().union(*(set(s.train) | set(s.calibrate) | set(s.test) for s in splits)))
    return splits, build_training_rows(tables, policy, needed, horizon_weeks=int(result.config["horizon_weeks"]))


def test_labels_shuffled_within_township_are_refused(trained_small, backtest_rows):
    tables, policy, result = trained_small
    splits, rows = backtest_rows
    assert len(splits) >= 3  # three outcome years on the small county too
    params = result.best_params
    fit_baselines = baseline_scorers(tables, policy, C=1.0, max_rows=20000, seed=0)

    def shuffled_procedure(train: pd.DataFrame, calib: pd.DataFrame) -> RiskPipeline:
        train, calib = shuffled_within_township(train, 1), shuffled_within_township(calib, 2)
        return RiskPipeline(lgbm_params=params, calibration="auto").fit(train, train[LABEL], calib, calib[LABEL])

    def baselines(train: pd.DataFrame, calib: pd.DataFrame) -> dict:
        fns = fit_baselines(train, calib)
        fns.pop("_objects")
        return fns

    bt = run_backtest(rows, splits, shuffled_procedure, baselines, pd.DataFrame(columns=["year", "township"]),
                      replicates=50)
    candidate = {**result.metrics, **pooled_headline(bt)}
    decision = decide(candidate, bt.pooled["rules"], None, None, result.config["gates"],
                      fitted_rules=bt.pooled["rules_fitted"])
    assert decision.alias == "challenger"
    ratio = [r for r in decision.reasons if "strongest baseline" in r]
    assert len(ratio) == 1 and "\n" not in ratio[0], decision.reasons
    # The real procedure on the same county finds clearly more than the shuffled one does.
    assert result.metrics["recall_ratio_vs_best_rules"] > 2 * candidate["recall_ratio_vs_best_rules"]
