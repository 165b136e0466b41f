"""Watch-list selection: criteria, township capacity, sharp rises, monitored households, flags."""

from __future__ import annotations

import numpy as np
import pandas as pd

from serving.core.watchlist import WatchlistConfig, load_watchlist_config, select_watchlist


def _scored(n_per_township=10):
    rows = []
    for t in ("甲镇", "乙镇"):
        for i in range(n_per_township):
            rows.append({"household_id": f"{t}{i:02d}", "township": t, "probability": 0.9 - 0.05 * i,
                         "change": np.nan, "rules_triggered": False, "under_monitoring": False})
    return pd.DataFrame(rows)


def test_capacity_per_township_takes_the_highest_risks():
    out = select_watchlist(_scored(), WatchlistConfig(default_capacity=3, townships={"乙镇": 1}), None)
    listed = out.loc[out["on_watchlist"]]
    assert list(listed.loc[listed["township"] == "甲镇", "household_id"]) == ["甲镇00", "甲镇01", "甲镇02"]
    assert list(listed.loc[listed["township"] == "乙镇", "household_id"]) == ["乙镇00"]
    assert listed["flag_new"].all()  # no earlier week: everything listed is new


def test_criteria_and_rises_join_beyond_capacity_and_flags_are_set():
    s = _scored()
    s.loc[s["household_id"] == "甲镇09", "rules_triggered"] = True
    s["change"] = 0.0
    s.loc[s["household_id"] == "甲镇08", "change"] = 0.2
    out = select_watchlist(s, WatchlistConfig(default_capacity=2, rising_delta=0.1), {"甲镇00", "甲镇09"})
    by_id = out.set_index("household_id")
    assert by_id.loc["甲镇09", "on_watchlist"] and by_id.loc["甲镇09", "flag_rule"]
    assert by_id.loc["甲镇09", "reasons"] == ["criterion"] and not by_id.loc["甲镇09", "flag_new"]
    assert by_id.loc["甲镇08", "on_watchlist"] and by_id.loc["甲镇08", "flag_rising"]
    assert by_id.loc["甲镇08", "flag_new"]
    assert not by_id.loc["甲镇05", "on_watchlist"]


def test_households_under_monitoring_stay_off_unless_rising():
    s = _scored()
    s["change"] = 0.0
    s.loc[s["household_id"].isin(["甲镇00", "甲镇01"]), "under_monitoring"] = True
    s.loc[s["household_id"] == "甲镇01", "change"] = 0.3
    s.loc[s["household_id"] == "甲镇00", "rules_triggered"] = True
    out = select_watchlist(s, WatchlistConfig(default_capacity=2, rising_delta=0.1), None).set_index("household_id")
    assert not out.loc["甲镇00", "on_watchlist"]  # monitored, not rising: even a criterion keeps it off
    assert out.loc["甲镇01", "on_watchlist"]  # monitored but rising sharply
    # Capacity goes to the next households instead.
    assert out.loc["甲镇02", "on_watchlist"]


def test_default_config_file_parses():
    config = load_watchlist_config()
    assert config.default_capacity > 0 and 0 < config.rising_delta < 1
    assert config.capacity("any township") == config.default_capacity
