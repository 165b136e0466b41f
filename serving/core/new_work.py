"""This week's new work, apart from the households already known, within what officers can reach.

Pure. The watch list (``serving.core.watchlist``) holds every household meeting an official
criterion - mostly the same households week after week - beside the model's picks. Officers need to
know which of them are new this week. Each listed or department-warned household gets a ``work``
and a ``why``:
- ``new`` (this week's new work): a department warning this week (``department``), a criterion it
  did not meet last week (``new_criterion``), or - for the model's picks - newly listed (``new``) or
  rising (``rising``). The model's picks are new work only up to the township's weekly capacity,
  highest risk first; the rest are ``held`` as ``over_capacity``. Warnings and criteria are never
  held: the rules require a check.
- ``known``: listed but nothing new - being handled (an open case, ``handled``), visited within
  the hold period (``visited``), under monitoring (``monitored``) or on last week's list
  (``listed_before``).
- ``held`` as ``no_risk``: an officer judged it "no risk" (a visit or a home check) within the
  last ``hold_weeks``; it comes back as new work when its risk has risen by ``hold_margin`` since
  then (``risen_since_judged``), a department warning arrives or a criterion newly fires.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from serving.core.watchlist import WatchlistConfig

WORK = {"new": ("本周新任务", "this week's new work"), "known": ("已掌握", "already known"),
        "held": ("暂缓列入", "held back")}
WHY = {
    "department": ("部门预警", "department warning"),
    "new_criterion": ("新符合认定标准", "newly meets a criterion"),
    "risen_since_judged": ("判定无风险后风险明显上升", "risk rose past the margin since judged no risk"),
    "rising": ("风险上升", "risk rising"),
    "new": ("新列入", "newly listed"),
    "handled": ("正在办理", "being handled (open case)"),
    "visited": ("近期已走访", "visited recently"),
    "monitored": ("已纳入监测", "under monitoring"),
    "listed_before": ("上周已列入", "on last week's list"),
    "no_risk": ("近期判定无风险", "judged no risk recently"),
    "over_capacity": ("超出本周走访能力", "beyond the township's weekly capacity"),
}


@dataclass(frozen=True)
class Followup:
    """What officers already know, read from the store before the week is scored.

    Attributes:
        judged: household -> its risk when an officer judged it "no risk" within the hold period
            (the latest such judgement).
        handled: households with an open case.
        visited: households with a visit recorded within the hold period.
        warned: households with a department warning this week.
        previous_criteria: last published week's ``criteria_met`` per household (None: no earlier
            week, so every criterion is new).
    """

    judged: dict[str, float] = field(default_factory=dict)
    handled: set[str] = field(default_factory=set)
    visited: set[str] = field(default_factory=set)
    warned: set[str] = field(default_factory=set)
    previous_criteria: dict[str, str] | None = None


def _criteria(text: object) -> set[str]:
    return {c for c in str(text or "").split("|") if c}


def split_work(scored: pd.DataFrame, config: WatchlistConfig, followup: Followup) -> pd.DataFrame:
    """``work`` and ``why`` for every listed, department-warned or recently judged household.

    Args:
        scored: ``serving.core.watchlist.select_watchlist``'s output (with ``criteria_met``,
            ``probability``, ``under_monitoring`` and the flags).
        config: capacities, ``hold_margin``.
        followup: what officers already know.

    Returns:
        ``household_id, township, probability, on_watchlist, work, why`` in ``scored``'s order.
    """
    rows = scored.loc[scored["on_watchlist"].to_numpy(dtype=bool) | scored["household_id"].isin(followup.warned)
                      | scored["household_id"].isin(followup.judged)]
    rows = rows.copy()
    work = np.empty(len(rows), dtype=object)
    why = np.empty(len(rows), dtype=object)
    candidate = np.zeros(len(rows), dtype=bool)
    previous = followup.previous_criteria
    for i, r in enumerate(rows.itertuples(index=False)):
        h = r.household_id
        fresh_criterion = bool(_criteria(r.criteria_met) - (set() if previous is None
                                                            else _criteria(previous.get(h))))
        if h in followup.warned:
            work[i], why[i] = "new", "department"
        elif fresh_criterion:
            work[i], why[i] = "new", "new_criterion"
        elif h in followup.judged:
            if r.probability - followup.judged[h] >= config.hold_margin:
                work[i], why[i] = "new", "risen_since_judged"
            else:
                work[i], why[i] = "held", "no_risk"
        elif (r.flag_rising or r.flag_new) and h not in followup.handled and h not in followup.visited:
            candidate[i] = True
            work[i], why[i] = "new", "rising" if r.flag_rising else "new"
        else:
            work[i] = "known"
            why[i] = ("handled" if h in followup.handled else "visited" if h in followup.visited
                      else "monitored" if r.under_monitoring else "listed_before")
    rows["work"], rows["why"] = work, why
    # The model's picks are new work up to what the township's officers can visit this week.
    picks = rows.loc[candidate].sort_values(["township", "probability", "household_id"],
                                            ascending=[True, False, True])
    over = picks.groupby("township").cumcount().to_numpy() >= picks["township"].map(config.capacity).to_numpy()
    rows.loc[picks.index[over], ["work", "why"]] = ["held", "over_capacity"]
    return rows[["household_id", "township", "probability", "on_watchlist", "work", "why"]].reset_index(drop=True)


def held(scored: pd.DataFrame, config: WatchlistConfig, followup: Followup) -> set[str]:
    """The households held back as "no risk": judged so within the hold period, risk not risen by
    the margin since, no department warning this week (``select_watchlist``'s ``held``)."""
    risk = dict(zip(scored["household_id"], scored["probability"], strict=True))
    return {h for h, then in followup.judged.items()
            if h in risk and h not in followup.warned and risk[h] - then < config.hold_margin}


def held_back(work: pd.DataFrame) -> dict[str, int]:
    """How many were held back, by why (for the page's line and the week's summary)."""
    held = work.loc[work["work"] == "held", "why"]
    return {k: int(v) for k, v in held.value_counts().sort_index().items()}


def work_counts(work: pd.DataFrame | None) -> dict:
    """The week's work in numbers: new, known and held per township and held back by why (the
    run's stages, `fanpin weekly --json` and the list page's line)."""
    if work is None or work.empty:
        return {"new": 0, "known": 0, "held": 0, "held_back": {}, "townships": {}}
    per = work.groupby(["township", "work"]).size().unstack(fill_value=0)
    return {
        **{w: int((work["work"] == w).sum()) for w in WORK},
        "held_back": held_back(work),
        "townships": {str(t): {w: int(row.get(w, 0)) for w in WORK} for t, row in per.iterrows()},
    }


TOP_SHARE = 0.10
NO_RISK_OUTCOMES = frozenset({"not_at_risk"})


def needs_reason(outcome: str, rank: int | None, scored: int | None) -> bool:
    """An officer judging a household of the county's top tenth by risk "no risk" must say why
    (the reason is kept and shown beside the misses by override, ``monitoring.judgement``)."""
    if outcome not in NO_RISK_OUTCOMES or rank is None or not scored:
        return False
    return int(rank) <= math.ceil(scored * TOP_SHARE)
