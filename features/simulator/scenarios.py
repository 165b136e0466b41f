"""Drift scenarios: changes to the last weekly exports (the history is never touched).

Each scenario changes only what it says, from its first affected week on:
- ``baseline``: nothing.
- ``flood``: one township is hit by a flood in the first affected week: disaster-damage events
  with losses for most of its households, some houses downgraded to C/D, and business income
  cut in their latest income records.
- ``unit-error``: one township's income-survey money fields are exported in 万元 (÷10000).
- ``pension-rise``: households with members aged 60+ get 1,200 yuan per elderly member (at most
  2,400) more transfer income in their latest income records.
- ``new-township``: households of a township never seen in the history appear in the exports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from features.simulator.layout import MINORITY_TOWNSHIP, SPARE_TOWNSHIPS

SCENARIOS = ("baseline", "flood", "unit-error", "pension-rise", "new-township")
INCOME_COLUMNS = ("wage_income", "business_income", "property_income", "transfer_income",
                  "business_costs", "medical_out_of_pocket", "schooling_spending")


@dataclass
class Scenario:
    """What a scenario changes and from which export week."""

    name: str
    first_week: str | None
    township: str | None
    affected_households: int = 0
    # rows changed in each affected week (surveys come and go, so the count can move by a few)
    affected_by_week: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def plan(name: str, township_names: list[str], export_weeks: list[str], first_week: str | None,
         rng: np.random.Generator) -> Scenario:
    """Choose the affected township and first week (default: the last four exports)."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
    if name == "baseline":
        return Scenario(name, None, None)
    if first_week is None:
        first_week = export_weeks[-4]
    elif first_week not in export_weeks:
        raise ValueError(f"--scenario-week {first_week} is not one of the exported weeks "
                         f"{export_weeks[0]}..{export_weeks[-1]}")
    if name == "new-township":
        township = SPARE_TOWNSHIPS[0]
    elif name == "pension-rise":
        township = None
    else:
        choices = [t for t in township_names if t != MINORITY_TOWNSHIP]
        township = choices[int(rng.integers(len(choices)))]
    return Scenario(name, first_week, township)


def apply(scn: Scenario, views: dict[str, dict[str, pd.DataFrame]], rng: np.random.Generator,
          new_township: dict[str, pd.DataFrame] | None = None) -> dict[str, dict[str, pd.DataFrame]]:
    """Return the weekly views with the scenario's changes (English codes; views keyed by week)."""
    if scn.name == "baseline":
        return views
    labels = sorted(views)
    affected = [w for w in labels if w >= scn.first_week]
    out = {w: views[w] for w in labels}
    if scn.name == "unit-error":
        for w in affected:
            out[w], scn.affected_by_week[w] = _unit_error(views[w], scn)
    elif scn.name == "pension-rise":
        for w in affected:
            out[w], scn.affected_by_week[w] = _pension_rise(views[w], w)
    elif scn.name == "flood":
        flood = _flood_plan(views[affected[0]], affected[0], scn, rng)
        for w in affected:
            out[w] = _flood(views[w], flood, first=w == affected[0])
    elif scn.name == "new-township":
        scn.affected_households = int(len(new_township["households"]))
        for w in affected:
            out[w] = {k: pd.concat([views[w][k], new_township[k]], ignore_index=True)
                      if k in ("households", "members", "income_surveys") else views[w][k]
                      for k in views[w]}
    if scn.affected_by_week:
        scn.affected_households = scn.affected_by_week[affected[0]]
    return out


def _township_households(view: dict[str, pd.DataFrame], township: str) -> set:
    h = view["households"]
    return set(h.loc[h["township"] == township, "household_id"])


def _unit_error(view, scn) -> tuple[dict[str, pd.DataFrame], int]:
    ids = _township_households(view, scn.township)
    s = view["income_surveys"].copy()
    sel = s["household_id"].isin(ids)
    for col in INCOME_COLUMNS:
        s.loc[sel, col] = s.loc[sel, col] / 10000.0
    # a survey with no income at all reads the same in 万元: it is not affected
    return {**view, "income_surveys": s}, int((sel & (s[list(INCOME_COLUMNS[:4])].fillna(0) != 0).any(axis=1)).sum())


def _pension_rise(view, week: str):
    from features.simulator.snapshot import parse_week

    sunday = pd.Timestamp(parse_week(week)) + pd.Timedelta(days=6)
    mem = view["members"]
    elderly = mem[(sunday - mem["birth_date"]).dt.days / 365.25 >= 60].groupby("household_id").size()
    rise = np.minimum(elderly * 1200.0, 2400.0)
    s = view["income_surveys"].copy()
    add = s["household_id"].map(rise).fillna(0.0)
    s["transfer_income"] = s["transfer_income"] + add
    return {**view, "income_surveys": s}, int((add > 0).sum())


def _flood_plan(view, week: str, scn, rng):
    from features.simulator.snapshot import parse_week

    monday = pd.Timestamp(parse_week(week))
    h = view["households"].sort_values("household_id")
    h = h[h["township"] == scn.township]
    hit = h[rng.random(len(h)) < 0.7]
    n = len(hit)
    days = monday + pd.to_timedelta(rng.integers(0, 3, n), unit="D")  # the flood lasts a few days
    loss = hit["land_mu"].to_numpy() * rng.uniform(400, 1200, n) + np.where(
        rng.random(n) < 0.5, rng.lognormal(np.log(9000), 0.8, n), 0)
    down = rng.random(n) < 0.15
    grade = np.where(rng.random(n) < 0.7, "C", "D")
    cut = rng.uniform(0.4, 0.7, n)
    scn.affected_households = n
    return pd.DataFrame({"household_id": hit["household_id"].to_numpy(), "day": days,
                         "loss": loss.round(0), "down": down, "grade": grade, "cut": cut})


def _flood(view, flood: pd.DataFrame, first: bool):
    h = view["households"].copy()
    down = flood[flood["down"]].set_index("household_id")
    sel = h["household_id"].isin(down.index)
    worse = sel & (h["housing_grade"].map({"A": 0, "B": 1, "C": 2, "D": 3}) <
                   h["household_id"].map(down["grade"]).map({"C": 2, "D": 3}))
    h.loc[worse, "housing_grade"] = h.loc[worse, "household_id"].map(down["grade"])
    h.loc[worse, "valid_from"] = h.loc[worse, "household_id"].map(down["day"])
    if "recorded_at" in h.columns:  # emergency management reports a flood the same week
        h.loc[worse, "recorded_at"] = h.loc[worse, "valid_from"]
    s = view["income_surveys"].copy()
    cut = s["household_id"].map(flood.set_index("household_id")["cut"])
    s["business_income"] = np.where(cut.notna(), (s["business_income"] * (1 - cut.fillna(0))).round(0),
                                    s["business_income"])
    out = {**view, "households": h, "income_surveys": s}
    if first:
        n = len(flood)
        dmg = pd.DataFrame({
            "event_id": [f"F{i:09d}" for i in range(1, n + 1)],
            "household_id": flood["household_id"].to_numpy(),
            "member_id": None,
            "event_date": flood["day"].to_numpy(),
            "event_type": "disaster_damage",
            "amount": flood["loss"].to_numpy(),
            "source": "应急管理局",
            "recorded_at": flood["day"].to_numpy(),
        })
        dn = flood[flood["down"]]
        hd = pd.DataFrame({
            "event_id": [f"F{i:09d}" for i in range(n + 1, n + 1 + len(dn))],
            "household_id": dn["household_id"].to_numpy(),
            "member_id": None,
            "event_date": dn["day"].to_numpy(),
            "event_type": "housing_downgrade",
            "amount": np.nan,
            "source": "住建局",
            "recorded_at": dn["day"].to_numpy(),
        })
        out["events"] = pd.concat([view["events"], dmg, hd], ignore_index=True)
    return out

