"""Local shocks from recorded disaster events: how much of an area was hit lately, which areas
cross the threshold, and what past shocks did to entries there.

Pure functions of the history's tables (``households``, ``events``, ``outcomes``) and a cutoff:
the weekly job's shock response (``serving.weekly.shock``) and the training's shock backtests and
shock township-years read the same counts, so a "shock" means one thing everywhere.

A shock is an area (township by default) whose disaster events recorded in the last ``weeks``
weeks reach ``per_100`` per 100 of its households. Only events recorded by the cutoff count (a
loss reported later was not known then).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DISASTER_EVENTS = ("disaster_damage",)
WEEK = pd.Timedelta(weeks=1)


@dataclass(frozen=True)
class ShockRule:
    """When an area's recent disaster records declare a shock.

    Attributes:
        weeks: the window (weeks up to the cutoff).
        per_100: disaster events per 100 of the area's households within the window.
        level: ``township`` or ``village``.
        min_households: smaller areas never declare a shock (a few events would be a large rate).
        horizon_weeks: how long after its onset a past shock's entries are counted (learning).
        dated: ``recorded`` counts an event in the week it reached the registry (what was known
            at a cutoff: the weekly job); ``event`` in the week it happened (hindsight: training's
            shock township-years).
    """

    weeks: int = 4
    per_100: float = 10.0
    level: str = "township"
    min_households: int = 30
    horizon_weeks: int = 13
    dated: str = "recorded"


# The two rules of the project, one definition (``weekly_disasters``):
WEEKLY_RULE = ShockRule()  # the weekly job's detector: recorded by the cutoff, 4 weeks, 10 per 100
TRAINING_RULE = ShockRule(weeks=13, per_100=20.0, min_households=1, dated="event")  # shock township-years


def _area_of(tables: dict[str, pd.DataFrame], level: str) -> pd.Series:
    h = tables["households"]
    return h.drop_duplicates("household_id", keep="last").set_index("household_id")[level]


def area_households(tables: dict[str, pd.DataFrame], level: str = "township") -> pd.Series:
    """Households per area (the rate's denominator): every household the registry has listed."""
    return _area_of(tables, level).value_counts().sort_index()


def disaster_records(tables: dict[str, pd.DataFrame], level: str = "township", dated: str = "recorded") -> pd.DataFrame:
    """Disaster events with the area of their household and the day that counts: ``recorded``
    (``recorded_at`` when the export has it, else the event date) or ``event`` (the event date)."""
    events = tables["events"]
    hit = events.loc[events["event_type"].isin(DISASTER_EVENTS)]
    day = pd.to_datetime(hit["event_date"])
    if dated == "recorded" and "recorded_at" in hit.columns:
        day = pd.to_datetime(hit["recorded_at"]).fillna(day)
    elif dated not in ("recorded", "event"):
        raise ValueError(f"ShockRule.dated must be 'recorded' or 'event', not {dated!r}")
    area = hit["household_id"].map(_area_of(tables, level))
    out = pd.DataFrame({"household_id": hit["household_id"].to_numpy(), "area": area.to_numpy(),
                        "recorded": day.to_numpy()})
    return out.dropna(subset=["area"])


def weekly_disasters(tables: dict[str, pd.DataFrame], rule: ShockRule = WEEKLY_RULE, *,
                     until: pd.Timestamp | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The one shock definition: (events per ISO week and area, events per 100 of the area's
    households in the ``rule.weeks`` weeks ending with each week).

    Rows are ISO weeks labelled by their Monday, every week from the first record to the last
    (or to the week ending by ``until``); columns are areas. An area is over the rule in a week
    when its rate reaches ``rule.per_100`` and it has at least ``rule.min_households``
    households (``over_rule``). Both frames are empty when there is no record.
    """
    records = disaster_records(tables, rule.level, rule.dated)
    if records.empty:
        return pd.DataFrame(), pd.DataFrame()
    monday = records["recorded"].dt.normalize() - pd.to_timedelta(records["recorded"].dt.dayofweek, "D")
    counts = records.assign(week=monday).groupby(["week", "area"]).size().unstack(fill_value=0)
    last = counts.index.max() if until is None else pd.Timestamp(until) - pd.Timedelta(days=6)
    full = pd.date_range(counts.index.min(), max(last, counts.index.min()), freq="7D")
    counts = counts.reindex(full, fill_value=0)
    if until is not None:
        counts = counts.loc[counts.index <= last]
    households = area_households(tables, rule.level).reindex(counts.columns)
    rate = counts.rolling(rule.weeks, min_periods=1).sum() * 100 / households.to_numpy()
    return counts, rate


def over_rule(tables: dict[str, pd.DataFrame], rate: pd.DataFrame, rule: ShockRule) -> pd.DataFrame:
    """Which area-weeks of ``weekly_disasters``' rate declare a shock under ``rule``."""
    big = area_households(tables, rule.level).reindex(rate.columns).fillna(0).to_numpy() >= rule.min_households
    return (rate >= rule.per_100) & big


def recent_shock(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp, rule: ShockRule = WEEKLY_RULE,
                 records: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per area at ``cutoff``: households, disaster events and households hit in the last
    ``rule.weeks`` weeks, events per 100 households, share of households hit, and ``shock``
    (the rule's verdict). Sorted by events per 100, highest first."""
    cutoff = pd.Timestamp(cutoff)
    records = disaster_records(tables, rule.level, rule.dated) if records is None else records
    start = cutoff - rule.weeks * WEEK
    window = records[(records["recorded"] > start) & (records["recorded"] <= cutoff + pd.Timedelta(days=1))]
    households = area_households(tables, rule.level)
    out = pd.DataFrame({"households": households})
    out["events"] = window.groupby("area").size().reindex(out.index, fill_value=0)
    out["households_hit"] = window.groupby("area")["household_id"].nunique().reindex(out.index, fill_value=0)
    out["per_100"] = (100 * out["events"] / out["households"]).round(2)
    out["hit_share"] = (out["households_hit"] / out["households"]).round(4)
    out["shock"] = (out["per_100"] >= rule.per_100) & (out["households"] >= rule.min_households)
    out.index.name = "area"
    return out.sort_values(["per_100"], ascending=False).reset_index()


def shock_onsets(tables: dict[str, pd.DataFrame], rule: ShockRule = WEEKLY_RULE, *,
                 until: pd.Timestamp | None = None) -> pd.DataFrame:
    """Past shocks: the first Sunday each area crossed the rule (a new shock needs the area to
    have been below it for ``rule.horizon_weeks`` weeks). Columns: area, onset, per_100."""
    columns = ["area", "onset", "per_100"]
    _, rate = weekly_disasters(tables, rule, until=until)
    if rate.empty:
        return pd.DataFrame(columns=columns)
    rate.index = rate.index + pd.Timedelta(days=6)  # a week is known on its Sunday
    over = over_rule(tables, rate, rule)
    rows = []
    for area in rate.columns:
        flag = over[area].to_numpy()
        crossed = flag & ~np.concatenate([[False], flag[:-1]])  # from below the rule to above it
        rows += [{"area": area, "onset": rate.index[i], "per_100": round(float(rate[area].iloc[i]), 2)}
                 for i in np.flatnonzero(crossed)]
    out = pd.DataFrame(rows, columns=columns)
    return _separated(out, rule.horizon_weeks)


def _separated(onsets: pd.DataFrame, weeks: int) -> pd.DataFrame:
    """Keep an onset only when the area's previous one is at least ``weeks`` weeks earlier."""
    if onsets.empty:
        return onsets
    keep = []
    for _, part in onsets.sort_values("onset").groupby("area", sort=False):
        last = None
        for i, onset in zip(part.index, part["onset"], strict=True):
            if last is None or onset - last >= weeks * WEEK:
                keep.append(i)
            last = onset
    return onsets.loc[sorted(keep)].sort_values(["onset", "area"]).reset_index(drop=True)


def learned_offset(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp, rule: ShockRule = WEEKLY_RULE, *,
                   prior: float = 5.0) -> dict:
    """The shock adjustment learned from past shocks whose outcome window ended by ``cutoff``.

    For each past onset: entries in the area over the ``rule.horizon_weeks`` weeks after it
    (observed) against the area's own entry rate over the 52 weeks before it (expected). The
    offset is the log of the pooled ratio with ``prior`` pseudo-entries on both sides (a county
    with one small past shock moves little), added to the logit of the risk of households in a
    shocked area. Nothing after ``cutoff`` is read.

    Returns:
        offset (log odds), observed, expected, shocks (list of area/onset/observed/expected).
    """
    cutoff = pd.Timestamp(cutoff)
    onsets = shock_onsets(tables, rule, until=cutoff)
    horizon = rule.horizon_weeks * WEEK
    onsets = onsets[onsets["onset"] + horizon <= cutoff]
    entries = tables["outcomes"][["household_id", "entry_date"]].copy()
    entries["entry_date"] = pd.to_datetime(entries["entry_date"])
    entries["area"] = entries["household_id"].map(_area_of(tables, rule.level))
    shocks = []
    for area, onset in zip(onsets["area"], onsets["onset"], strict=True):
        mine = entries.loc[entries["area"] == area, "entry_date"]
        observed = int(((mine > onset) & (mine <= onset + horizon)).sum())
        before = int(((mine > onset - 52 * WEEK) & (mine <= onset)).sum())
        expected = before * rule.horizon_weeks / 52
        shocks.append({"area": area, "onset": str(pd.Timestamp(onset).date()), "observed": observed,
                       "expected": round(expected, 2)})
    observed = sum(s["observed"] for s in shocks)
    expected = sum(s["expected"] for s in shocks)
    offset = float(np.log((observed + prior) / (expected + prior)))
    return {"offset": round(max(offset, 0.0), 4), "observed": observed, "expected": round(expected, 2),
            "shocks": shocks}


def adjusted(probability: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Risk with ``offset`` added to its log odds (0: unchanged)."""
    p = np.clip(np.asarray(probability, dtype="float64"), 1e-9, 1 - 1e-9)
    out = 1 / (1 + np.exp(-(np.log(p / (1 - p)) + np.asarray(offset, dtype="float64"))))
    return np.where(np.asarray(offset) == 0, probability, out)
