"""The weekly job's shock plan (serving.weekly.shock.shock_plan) learns each hit township's offset
with the backtest's definition: the model's own misses in past shocks, as far into them as the
township is into its own, and says plainly when the adjustment lowers the risk."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from serving.weekly.shock import shock_plan

SETTINGS = SimpleNamespace(shock_weeks=4, shock_per_100=10.0, shock_capacity_weeks=8)


def _county():
    """甲镇 flooded in July 2022 (onset Sunday 10 July; A00-A11 enter on 1 September), 乙镇 from
    mid-August 2023 (onset Sunday 20 August): two weeks into its shock on 3 September 2023."""
    ids = [f"A{i:02d}" for i in range(40)] + [f"B{i:02d}" for i in range(40)]
    households = pd.DataFrame({"household_id": ids, "township": ["甲镇"] * 40 + ["乙镇"] * 40,
                               "village": ["v1"] * 40 + ["v2"] * 40})
    events = [(f"A{i:02d}", "2022-07-06") for i in range(20)] + [(f"B{i:02d}", "2023-08-16") for i in range(10)]
    ev = pd.DataFrame({"event_id": range(len(events)), "household_id": [e[0] for e in events],
                       "event_type": "disaster_damage", "event_date": pd.to_datetime([e[1] for e in events]),
                       "recorded_at": pd.to_datetime([e[1] for e in events])})
    outcomes = pd.DataFrame({"household_id": [f"A{i:02d}" for i in range(12)],
                             "entry_date": pd.to_datetime(["2022-09-01"] * 12)})
    return {"households": households, "events": ev, "outcomes": outcomes}


def test_each_hit_township_learns_from_the_models_misses_as_far_into_past_shocks():
    calls = []

    def expected_at(area, day):  # a model that over-reacted to 甲镇's losses: 24 expected, 12 entered
        calls.append((area, day))
        return pd.Series(0.8, index=[f"A{i:02d}" for i in range(30)])

    plan = shock_plan(_county(), pd.Timestamp("2023-09-03"), SETTINGS, expected_at)
    assert calls == [("甲镇", pd.Timestamp("2022-07-24"))]  # 甲镇's onset + the 2 weeks 乙镇 is in
    assert plan.by_area == {"乙镇": pytest.approx(np.log((12 + 5) / (24 + 5)), abs=1e-4)}
    config = SimpleNamespace(capacity=lambda township: 2)
    record = plan.record(_county()["households"], SETTINGS, config)
    area = record["areas"][0]
    assert area["area"] == "乙镇" and area["weeks_in"] == 2 and area["offset"] == plan.by_area["乙镇"]
    assert "下调" in area["statement_zh"] and "模型当时预期 24.0 户" in area["statement_zh"]
    assert "-0.53 log odds" in area["statement_en"]
    assert record["adjustment"]["offset"] == plan.offset and record["adjustment"]["by_area"] == plan.by_area


def test_a_quiet_week_asks_the_model_nothing():
    calls = []
    plan = shock_plan(_county(), pd.Timestamp("2024-03-03"), SETTINGS, lambda a, d: calls.append(a))
    assert plan.hit.empty and plan.by_area == {} and calls == []
