"""This week's new work apart from the known households, within the township's capacity."""

from __future__ import annotations

import numpy as np
import pandas as pd

from serving.core.new_work import Followup, held, held_back, split_work
from serving.core.watchlist import WatchlistConfig, select_watchlist

CONFIG = WatchlistConfig(default_capacity=2, rising_delta=0.05, hold_margin=0.10)


def _scored(previous: set[str] | None, change: dict[str, float] | None = None,
            criteria: dict[str, str] | None = None, followup: Followup | None = None,
            probability: dict[str, float] | None = None) -> pd.DataFrame:
    rows = []
    for i in range(6):
        h = f"甲{i}"
        rows.append({"household_id": h, "township": "甲镇", "village": "v",
                     "probability": (probability or {}).get(h, 0.6 - 0.05 * i),
                     "change": (change or {}).get(h, 0.0), "rules_triggered": bool((criteria or {}).get(h)),
                     "criteria_met": (criteria or {}).get(h, ""), "under_monitoring": False})
    frame = pd.DataFrame(rows)
    return select_watchlist(frame, CONFIG, previous, held(frame, CONFIG, followup or Followup()))


def _work(out: pd.DataFrame) -> dict[str, tuple[str, str]]:
    return {r.household_id: (r.work, r.why) for r in out.itertuples()}


def test_criteria_listed_week_after_week_are_known_and_a_new_criterion_is_new_work():
    previous_criteria = {"甲5": "income_below_line"}
    scored = _scored({"甲0", "甲1", "甲5"}, criteria={"甲5": "income_below_line", "甲4": "housing"})
    out = _work(split_work(scored, CONFIG, Followup(previous_criteria=previous_criteria)))
    assert out["甲5"] == ("known", "listed_before")
    assert out["甲4"] == ("new", "new_criterion")
    assert out["甲0"] == ("known", "listed_before")
    # A second criterion on a household already meeting one is new too.
    scored = _scored({"甲5"}, criteria={"甲5": "income_below_line|housing"})
    assert _work(split_work(scored, CONFIG, Followup(previous_criteria=previous_criteria)))["甲5"] == \
        ("new", "new_criterion")


def test_a_no_risk_verdict_holds_the_household_back_until_its_risk_rises_past_the_margin():
    followup = Followup(judged={"甲0": 0.58}, previous_criteria={})
    out = split_work(_scored(None, followup=followup), CONFIG, followup)
    assert _work(out)["甲0"] == ("held", "no_risk")
    assert held_back(out) == {"no_risk": 1}
    # The capacity goes to the next households.
    assert [h for h, (w, _) in _work(out).items() if w == "new"] == ["甲1", "甲2"]
    # Risen by 0.09 since judged (and sharply this week): still held; by 0.11: new work again.
    risen = _scored(None, change={"甲0": 0.09}, followup=followup, probability={"甲0": 0.67})
    assert _work(split_work(risen, CONFIG, followup))["甲0"] == ("held", "no_risk")
    assert not risen.set_index("household_id").loc["甲0", "on_watchlist"]
    risen = _scored(None, change={"甲0": 0.11}, followup=followup, probability={"甲0": 0.69})
    assert _work(split_work(risen, CONFIG, followup))["甲0"] == ("new", "risen_since_judged")
    # A department warning brings it back whatever its risk.
    warned = Followup(judged={"甲0": 0.58}, warned={"甲0"}, previous_criteria={})
    assert _work(split_work(_scored(None, followup=warned), CONFIG, warned))["甲0"] == ("new", "department")


def test_new_work_stays_within_capacity_plus_warnings_and_new_criteria():
    change = {f"甲{i}": 0.2 for i in range(6)}  # everyone rising sharply: all listed
    scored = _scored({"甲0"}, change=change, criteria={"甲5": "housing"})
    followup = Followup(warned={"甲9"}, handled={"甲1"}, previous_criteria={})
    extra = pd.DataFrame([{"household_id": "甲9", "township": "甲镇", "village": "v", "probability": 0.01,
                           "change": np.nan, "rules_triggered": False, "criteria_met": "",
                           "under_monitoring": False}])
    scored = pd.concat([scored, select_watchlist(extra, CONFIG, set()).assign(on_watchlist=False)],
                       ignore_index=True)
    out = split_work(scored, CONFIG, followup)
    work = _work(out)
    assert work["甲9"] == ("new", "department") and work["甲5"] == ("new", "new_criterion")
    assert work["甲1"] == ("known", "handled")
    new = [h for h, (w, _) in work.items() if w == "new"]
    assert len(new) <= CONFIG.capacity("甲镇") + 2
    assert held_back(out) == {"over_capacity": 2}  # 甲0 甲2 are the two picks; 甲3 甲4 wait
    assert work["甲3"] == ("held", "over_capacity")
