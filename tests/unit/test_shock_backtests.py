"""Shock backtests (training.shock_backtests): each past shock is judged at onset + 4, 8 and 12
weeks by a model fitted before it, the response's offset is learned from earlier shocks only, the
capacity move keeps the list's size, and unjudgeable shocks are named with their reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from training.dataset import LABEL
from training.shock_backtests import lists, matured_fitter, run_shock_backtests, shock_cutoffs

TOWNS = {"甲镇": "A", "乙镇": "B", "丙镇": "C"}
N = 200  # households per township
END = pd.Timestamp("2024-06-30")
SHOCKS = {"甲镇": pd.Timestamp("2021-07-04"), "乙镇": pd.Timestamp("2022-07-03"), "丙镇": pd.Timestamp("2024-03-03")}


def _county():
    ids = [f"{p}{i:03d}" for p in TOWNS.values() for i in range(N)]
    town = [t for t in TOWNS for _ in range(N)]
    households = pd.DataFrame({"household_id": ids, "township": town, "village": [f"{t}村" for t in town]})
    rng = np.random.default_rng(0)
    events, entries = [], []
    for t, onset in SHOCKS.items():
        hit = [f"{TOWNS[t]}{i:03d}" for i in range(0, N, 2)]  # half the township, recorded over six weeks
        events += [(h, onset - pd.Timedelta(days=int(rng.integers(0, 42)))) for h in hit]
        # entries surge in the 13 weeks after the shock, against ~2 a year before it
        entries += [(h, onset + pd.Timedelta(days=int(rng.integers(1, 90)))) for h in hit[:24]]
        entries += [(f"{TOWNS[t]}{i:03d}", onset - pd.Timedelta(days=int(rng.integers(30, 360)))) for i in (1, 3)]
    ev = pd.DataFrame({"event_id": range(len(events)), "household_id": [e[0] for e in events],
                       "event_type": "disaster_damage", "event_date": [e[1] for e in events],
                       "recorded_at": [e[1] for e in events]})
    outcomes = pd.DataFrame({"household_id": [e[0] for e in entries], "entry_date": [e[1] for e in entries]})
    return {"households": households, "events": ev, "outcomes": outcomes}


def _rows_at(tables):
    h = tables["households"]
    x = np.random.default_rng(1).random(len(h))
    first_entry = tables["outcomes"].groupby("household_id")["entry_date"].min()
    ev = tables["events"]

    def rows_at(cutoffs):
        parts = []
        for c in cutoffs:
            c = pd.Timestamp(c)
            nxt = h["household_id"].map(first_entry)
            label = ((nxt > c) & (nxt <= c + pd.Timedelta(weeks=52))) | (x > 0.97)
            # the feature a model reads: a loss recorded in the 12 weeks to the cutoff
            recent = ev.loc[(ev["recorded_at"] <= c) & (ev["recorded_at"] > c - pd.Timedelta(weeks=12)), "household_id"]
            parts.append(h.assign(cutoff=c, x=x, hit=h["household_id"].isin(set(recent)).astype(float),
                                  **{LABEL: label.astype(int)}))
        return pd.concat(parts, ignore_index=True)

    return rows_at


def _procedure(fit_rows, calib_rows):
    model = make_pipeline(ColumnTransformer([("x", "passthrough", ["x", "hit"])]), LogisticRegression())
    return model.fit(fit_rows, fit_rows[LABEL])


def _run(tables):
    rows_at = _rows_at(tables)
    cutoffs = list(pd.date_range("2019-06-02", "2023-06-25", freq="28D"))
    fit_before = matured_fitter(rows_at, cutoffs, _procedure, horizon_weeks=52, min_train_cutoffs=2)
    return run_shock_backtests(tables, rows_at, fit_before, data_end=END, horizon_weeks=52)


def test_every_shock_at_three_offsets_with_reasons_when_unjudged():
    tables = _county()
    cases = shock_cutoffs(tables, __import__("features.shocks", fromlist=["ShockRule"]).ShockRule(),
                          data_end=END, horizon_weeks=52)
    assert set(cases["area"]) == set(SHOCKS)
    assert sorted(cases.loc[cases["area"] == "乙镇", "offset_weeks"]) == [4, 8, 12]
    onset = cases.loc[cases["area"] == "乙镇", "onset"].iloc[0]
    assert list(cases.loc[cases["area"] == "乙镇", "cutoff"] - onset) == [pd.Timedelta(weeks=k) for k in (4, 8, 12)]
    records = {(r["township"], r["offset_weeks"]): r for r in _run(tables)}
    assert records[("丙镇", 4)]["skipped"] == "label not matured"
    assert "skipped" not in records[("乙镇", 4)] and "skipped" not in records[("甲镇", 12)]


def test_offset_is_learned_from_earlier_shocks_only_and_the_response_helps():
    records = {(r["township"], r["offset_weeks"]): r for r in _run(_county())}
    first, later = records[("甲镇", 4)], records[("乙镇", 4)]
    # the county's first shock has nothing earlier to learn from; 乙镇's learns from 甲镇's alone
    assert first["offset_learned_from_shocks"] == 0 and first["offset"] == 0
    assert later["offset_learned_from_shocks"] == 1 and later["offset"] > 0.5
    assert later["firing"] and later["extra_capacity"]
    # the extra places (the township's share of expected entries, at least one more) find more
    assert first["recall_with"] > first["recall_without"] and later["recall_with"] >= later["recall_without"]
    assert later["observed_expected_with"] < later["observed_expected_without"]
    # twelve weeks on, the 4-week window has moved past the records: no offset any more (the
    # extra visits proposed while it fired may still run)
    late = records[("乙镇", 12)]
    assert not late["firing"]
    assert late["observed_expected_with"] == late["observed_expected_without"]


def test_capacity_move_keeps_the_list_size():
    rng = np.random.default_rng(2)
    p = rng.random(1000)
    area = np.where(np.arange(1000) < 100, "甲镇", "乙镇")
    plain = lists(p, area, 0.05, set(), 2.0)
    moved = lists(p, area, 0.05, {"甲镇"}, 2.0)
    assert plain.sum() == moved.sum() == 50
    # each township's own 5% without the move; with it 甲镇 doubles (ratio 2) at 乙镇's expense
    assert int((plain & (area == "甲镇")).sum()) == 5 and int((moved & (area == "甲镇")).sum()) == 10
    inside = np.flatnonzero(area == "甲镇")
    assert set(np.flatnonzero(moved & (area == "甲镇"))) == set(inside[np.argsort(-p[inside])[:10]])


def test_risk_share_places_follow_the_models_expected_entries():
    from training.shock_backtests import risk_share_targets

    area = np.where(np.arange(1000) < 100, "甲镇", "乙镇")
    p = np.where(area == "甲镇", 0.03 * 9 * 0.3 / 0.7, 0.03)  # 甲镇 holds 30% of the expected entries
    targets = risk_share_targets(p, area, 0.05, {"甲镇"})
    assert targets == {"甲镇": 15}
    listed = lists(p + np.random.default_rng(3).random(1000) * 1e-6, area, 0.05, {"甲镇"}, 9.0, targets)
    assert listed.sum() == 50 and int((listed & (area == "甲镇")).sum()) == 15
