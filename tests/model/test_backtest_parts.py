"""Parts of issue 28's evidence: the out-of-time calibrator choice, shock township-years from
recorded disasters, and the two-way (household x township-year) cluster weights."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models import calibration as cal
from training.rolling import two_way_weights
from training.shocks import shock_township_years


def _curved(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Margins whose true probability bends upwards at the top (a logistic in the margin cannot
    follow it), over 6 cutoffs."""
    rng = np.random.default_rng(seed)
    margin = rng.normal(-4.0, 1.0, n)
    p = 1 / (1 + np.exp(-(margin + 0.9 * np.clip(margin + 2.5, 0, None) ** 2)))
    y = (rng.random(n) < p).astype(int)
    cutoffs = np.repeat(pd.date_range("2023-01-01", periods=6, freq="28D").to_numpy(), n // 6 + 1)[:n]
    return margin, y, cutoffs


def test_the_calibrator_is_chosen_out_of_time_by_the_top_of_the_list():
    margin, y, cutoffs = _curved(120_000, 0)
    chosen, table = cal.choose(margin, y, cutoffs)
    rows = table.set_index("method")
    assert chosen != "sigmoid", table
    # Judged on the newest cutoffs only, fitted on the older ones.
    assert (rows["judged_first"] > rows["fit_last"]).all()
    assert rows.loc[chosen, "badness"] < rows.loc["sigmoid", "badness"]
    assert abs(rows.loc[chosen, "top5_observed_expected"] - 1) < abs(rows.loc["sigmoid", "top5_observed_expected"] - 1)


def test_a_calibrator_that_falls_as_the_margin_rises_is_never_chosen():
    rng = np.random.default_rng(1)
    margin = rng.normal(0, 1, 20_000)
    # Risk falls again at the very top: a spline follows it, which would reorder the list.
    p = np.where(margin > 1.5, 0.02, 1 / (1 + np.exp(-(margin - 3))))
    y = (rng.random(len(margin)) < p).astype(int)
    spline = cal.fit_calibrator("spline", margin, y)
    assert not cal.is_monotone("spline", spline, margin)
    chosen, table = cal.choose(margin, y, np.repeat([1, 2, 3, 4], 5000), methods=("spline", "sigmoid"))
    assert chosen == "sigmoid" and not table.set_index("method").loc["spline", "monotone"]


def _county(disasters_a: int) -> dict[str, pd.DataFrame]:
    households = pd.DataFrame({"household_id": [f"A{i}" for i in range(100)] + [f"B{i}" for i in range(100)],
                               "township": ["甲镇"] * 100 + ["乙镇"] * 100})
    dates = pd.to_datetime("2024-07-01") + pd.to_timedelta(np.arange(disasters_a) % 60, unit="D")
    events = pd.DataFrame({"household_id": [f"A{i % 100}" for i in range(disasters_a)] + ["B1", "B2"],
                           "event_date": list(dates) + [pd.Timestamp("2024-07-03")] * 2,
                           "event_type": ["disaster_damage"] * (disasters_a + 2)})
    return {"households": households, "events": events}


def test_a_township_with_twenty_disasters_per_hundred_households_in_a_quarter_is_a_shock_year():
    windows = {"2024-07..2025-12": (pd.Timestamp("2024-07-01"), pd.Timestamp("2025-12-31")),
               "2023-07..2024-12": (pd.Timestamp("2023-07-01"), pd.Timestamp("2024-06-30"))}
    shocks = shock_township_years(_county(25), windows)
    assert list(zip(shocks["year"], shocks["township"], strict=True)) == [("2024-07..2025-12", "甲镇")]
    assert shocks.iloc[0]["peak_per_100"] == 25.0 and shocks.iloc[0]["events"] == 25
    assert shock_township_years(_county(15), windows).empty  # 15 per 100: a normal year


def test_two_way_weights_resample_households_and_township_years_together():
    """200 households in two township-years: a household-only bootstrap never drops a whole
    township-year; the two-way one drops each in about a quarter of replicates (2 draws of 2)."""
    households = np.array([f"h{i}" for i in range(200)])
    township_years = np.array(["甲镇|2024"] * 100 + ["乙镇|2024"] * 100)
    w = np.vstack(list(two_way_weights(households, township_years, 400, 0)))
    assert abs(w.mean() - 1) < 0.1
    dropped = (w[:, :100].sum(axis=1) == 0).mean()
    assert 0.15 < dropped < 0.35
    # Within a kept township-year, households still vary (the household factor is there too).
    assert np.median(w[:, :100].std(axis=1)) > 0.5


def test_the_weekly_list_rule_is_criteria_plus_each_townships_capacity():
    from training.served_list import rule_list

    frame = pd.DataFrame({"cutoff": [pd.Timestamp("2024-07-07")] * 6,
                          "township": ["甲镇", "甲镇", "甲镇", "乙镇", "乙镇", "乙镇"],
                          "household_id": list("abcdef")})
    score = np.array([0.9, 0.5, 0.1, 0.3, 0.2, 0.8])
    criterion = np.array([False, False, True, False, False, False])
    listed = rule_list(frame, score, criterion, {"乙镇": 2}, default_capacity=1)
    # 甲镇: its one highest risk (a) and the household meeting a criterion (c); 乙镇: its two highest.
    assert listed.tolist() == [True, False, True, True, False, True]


def test_every_backtest_origin_has_two_years_of_training_cutoffs():
    """The oldest origin of issue 28's first runs trained on one or two cutoffs (its year fell
    outside the pooled interval): an origin needs ``min_train_span_weeks`` of training cutoffs."""
    from training.config import load_config
    from training.rolling import backtest_splits

    config = load_config()
    nine_years = list(pd.date_range("2017-12-31", "2024-12-29", freq="28D"))  # 2017-2025 history
    seven_years = list(pd.date_range("2019-12-29", "2024-12-29", freq="28D"))  # 2019-2025 history
    long_splits = backtest_splits(nine_years, config)
    assert len(long_splits) == 3
    for split in long_splits:
        assert max(split.train) - min(split.train) >= pd.Timedelta(weeks=100)
    # A 2019-2025 history holds the configured split and no older origin of two training years.
    assert len(backtest_splits(seven_years, config)) == 1
    relaxed = {**config, "backtest": {**config["backtest"], "min_train_span_weeks": 0}}
    assert len(backtest_splits(seven_years, relaxed)) == 3


def _headroom_rows(n: int, seed: int):
    """Oracle rows at a 2% entry rate: the oracle's list finds 60% of entrants, the model's 45%
    (mostly the same ones), the rules' 30%."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.02
    u = rng.random(n)
    listed = {"oracle": y & (u < 0.6), "model": y & (u < 0.45), "rules_fitted": y & (u > 0.7)}
    return np.arange(n).astype(str), y, listed


def test_recall_headroom_interval_narrows_with_the_oracle_entrants():
    """Issue 28 item 7: 36 entrants among the oracle rows left the headroom unreadable; 250 read it."""
    from training.backtests import _headroom_interval

    few = _headroom_interval(*_headroom_rows(1_800, 1), "rules_fitted")
    many = _headroom_interval(*_headroom_rows(12_500, 1), "rules_fitted")
    households, y, listed = _headroom_rows(12_500, 1)
    point = (y[listed["model"]].sum() - y[listed["rules_fitted"]].sum()) / (
        y[listed["oracle"]].sum() - y[listed["rules_fitted"]].sum())
    assert many[0] < point < many[1]
    assert many[1] - many[0] < 0.6 * (few[1] - few[0])
