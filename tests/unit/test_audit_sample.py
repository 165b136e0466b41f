"""The random audit (features.audit) and the simulator's true state (features.hardship)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.audit import draw_sample, hidden_share, inclusion_probability, quarter_of


def _unlisted(n_a=400, n_b=100, n_c=7):
    ids = [f"A{i:04d}" for i in range(n_a)] + [f"B{i:04d}" for i in range(n_b)] + [f"C{i:04d}" for i in range(n_c)]
    towns = ["甲镇"] * n_a + ["乙镇"] * n_b + ["丙镇"] * n_c
    return pd.DataFrame({"household_id": ids, "township": towns})


def test_sample_is_reproducible_from_its_seed_and_quarter():
    households = _unlisted()
    first = draw_sample(households, 0.02, seed=5, quarter="2025Q4")
    # the same seed and quarter draw the same households, whatever the input order
    again = draw_sample(households.sample(frac=1, random_state=1), 0.02, seed=5, quarter="2025Q4")
    pd.testing.assert_frame_equal(first, again)
    assert set(draw_sample(households, 0.02, seed=6, quarter="2025Q4")["household_id"]) != set(first["household_id"])
    assert set(draw_sample(households, 0.02, seed=5, quarter="2026Q1")["household_id"]) != set(first["household_id"])


def test_sample_is_stratified_by_township():
    sample = draw_sample(_unlisted(), 0.02, seed=5, quarter="2025Q4")
    drawn = sample.groupby("township").size().to_dict()
    # 2% of each township, at least one where a township has any
    assert drawn == {"甲镇": 8, "乙镇": 2, "丙镇": 1}
    assert sample.groupby("township")["weight"].first().to_dict() == {"甲镇": 50.0, "乙镇": 50.0, "丙镇": 7.0}
    probability = inclusion_probability(sample)
    assert probability[[h for h in probability.index if h.startswith("C")]].tolist() == [1 / 7]
    assert sample["household_id"].is_unique
    with pytest.raises(ValueError, match="audit share"):
        draw_sample(_unlisted(), 1.5, seed=5, quarter="2025Q4")


def test_hidden_share_weights_strata_and_keeps_an_interval():
    findings = pd.DataFrame({"township": ["甲镇"] * 10 + ["乙镇"] * 10,
                             "weight": [90.0] * 10 + [10.0] * 10,
                             "hardship": [True] * 1 + [False] * 9 + [True] * 5 + [False] * 5})
    est = hidden_share(findings)
    # 甲镇 stands for 900 households at 10%, 乙镇 for 100 at 50%: 140 of 1,000
    assert est["share"] == pytest.approx(0.14)
    assert 0 <= est["low"] < est["share"] < est["high"] <= 1
    none_found = hidden_share(findings.assign(hardship=False))
    assert none_found["share"] == 0 and none_found["high"] > 0
    assert hidden_share(findings.iloc[0:0])["share"] is None


def test_quarter_label():
    assert quarter_of(pd.Timestamp("2025-12-28")) == "2025Q4"
    assert quarter_of(pd.Timestamp("2026-01-04")) == "2026Q1"


def test_simulator_records_the_true_state_apart_from_the_history(sim_run, sim_folder):
    from features.contract import TABLES
    from features.hardship import hardship_at, hardship_weeks, in_hardship

    truth = pd.read_parquet(sim_folder / "truth" / "hardship.parquet")
    assert list(truth.columns) == ["household_id", "week_end"] and len(truth) > 0
    assert (pd.to_datetime(truth["week_end"]).dt.dayofweek == 6).all()  # one row per Sunday
    assert "hardship" not in TABLES and not (sim_folder / "history" / "hardship.parquet").exists()
    # more households fall into hardship than enter monitoring (officers do not find them all)
    cutoff = pd.Timestamp("2024-06-30")
    rows = pd.DataFrame({"household_id": sim_run.household_ids, "cutoff": cutoff})
    weeks = hardship_weeks(truth, rows, 52)
    out = sim_run.tables["outcomes"]
    window = (out["entry_date"] > cutoff) & (out["entry_date"] <= cutoff + pd.Timedelta(weeks=52))
    entered = set(out.loc[window, "household_id"])
    hard = in_hardship(truth, rows, 52)
    assert hard.sum() > len(entered) * 0.5 and hard.sum() > 0
    assert weeks.max() <= 52
    found_now = hardship_at(truth, cutoff)
    assert found_now and found_now <= set(sim_run.household_ids)
    assert np.all(weeks[rows["household_id"].isin(found_now).to_numpy()] >= 0)
