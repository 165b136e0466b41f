"""Backtests of the evaluated model beyond the test rows: against the simulator's oracle, and as
weekly watch lists (lead time), each with the baseline that gives the figure its meaning.

Both use the *evaluated* model (fit before the test period), never the served refit, which has
learned from these periods' outcomes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from features.policy import Policy
from models import metrics as mt
from training import evaluate as ev
from training.dataset import LABEL, WEEK, iter_frames, label_frame
from training.split import TimeSplit
from training.uncertainty import interval

Progress = Callable[[str, int, int], None]


def oracle_comparison(
    tables, policy: Policy, scorers: dict[str, Any], oracle: pd.DataFrame | None, split: TimeSplit, horizon: int,
    end, workers: int = 1, capacity: float = 0.05,
) -> dict[str, Any]:
    """The oracle's ranking against the model's and the rules' on the oracle's rows at test cutoffs.

    Rows: the oracle's households at its cutoffs that are test cutoffs (so neither the trees nor the
    calibrator saw their labels), not under monitoring at the cutoff; the realised label comes from
    the outcomes table, as for training rows. ``scorers`` maps "model" and the rules baselines to a
    function frame -> score; the headroom uses the stronger rules baseline's recall.
    """
    empty = {"oracle_auc": None, "model_auc_on_oracle_rows": None, "oracle_rows": 0, "oracle_cutoffs": [],
             "recall_headroom_share": None, "headroom_share": None}
    if oracle is None or oracle.empty:
        return empty
    test = {pd.Timestamp(c) for c in split.test}
    usable = sorted(c for c in oracle["cutoff"].unique()
                    if pd.Timestamp(c) in test and pd.Timestamp(c) + horizon * WEEK <= end)
    if not usable:
        return {**empty, "note": "no oracle cutoff is a test cutoff / 真实风险样本不在测试期"}
    rows = []
    for c, built in iter_frames(tables, policy, usable, workers):
        frame = label_frame(built, tables["outcomes"], c, horizon)
        sample = oracle.loc[oracle["cutoff"] == c, ["household_id", "true_risk"]]
        rows.append(frame.merge(sample, on="household_id", how="inner"))
    rows = pd.concat(rows, ignore_index=True)
    y = rows[LABEL].to_numpy()
    groups = rows["cutoff"].to_numpy()
    scores = {"oracle": rows["true_risk"].to_numpy(dtype=float), **{n: f(rows) for n, f in scorers.items()}}
    aucs = {n: mt.safe_auc(y, s) for n, s in scores.items()}
    recalls = {n: mt.recall_precision(y, mt.top_share(s, groups, capacity))[0] for n, s in scores.items()}
    rule_names = [n for n in scorers if n.startswith("rules")]
    best = max(rule_names, key=lambda n: recalls[n]) if rule_names else None
    headroom_interval = [None, None] if best is None else _headroom_interval(
        rows["household_id"].to_numpy(), y, {n: mt.top_share(scores[n], groups, capacity) for n in ("oracle", "model", best)},
        best)
    return {
        "oracle_auc": aucs["oracle"],
        "model_auc_on_oracle_rows": aucs["model"],
        **{f"{n}_auc_on_oracle_rows": aucs[n] for n in rule_names},
        **{f"{n}_recall_at_5pct_on_oracle_rows": recalls[n] for n in scores},
        "best_rules": best,
        "oracle_rows": int(len(rows)),
        "oracle_positives": int(y.sum()),
        "oracle_cutoffs": [str(pd.Timestamp(c).date()) for c in usable],
        "headroom_share": ev.headroom_share(aucs["model"], aucs["oracle"]),
        "recall_headroom_share": None if best is None else ev.recall_headroom(
            {"oracle": recalls["oracle"], "model": recalls["model"], "rules": recalls[best]}),
        "recall_headroom_interval": headroom_interval,
    }


def _headroom_interval(households: np.ndarray, y: np.ndarray, listed: dict[str, np.ndarray], best: str,
                       replicates: int = 200, seed: int = 0) -> list[float | None]:
    """Household-clustered 95% interval of the recall headroom (the lists stay as drawn; the
    households, each with all its oracle cutoffs, are resampled): how far another county of the
    same size may read it. Its width is what the oracle's number of entrants buys."""
    codes = np.unique(households.astype(str), return_inverse=True)[1]
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(replicates):
        w = np.bincount(rng.integers(0, codes.max() + 1, codes.max() + 1), minlength=codes.max() + 1)[codes].astype(float)
        r = {n: mt.recall_precision(y, listed[n], w)[0] for n in listed}
        draws.append(ev.recall_headroom({"oracle": r["oracle"], "model": r["model"], "rules": r[best]}))
    return interval([np.nan if d is None else d for d in draws])


def lead_time_backtest(
    tables, policy: Policy, scorers: dict[str, Any], split: TimeSplit, end, config: dict[str, Any],
    progress: Progress,
) -> tuple[dict[str, dict[str, float]], int]:
    """Weekly watch lists from the first test cutoff to the end of the data; entrants whose entry
    has a full lookback of lists are evaluated for every scorer, and for a random list of the
    model's coverage (``random_list``). Each scorer's result carries ``list_coverage_52w``."""
    lt = config["lead_time"]
    step, lookback = int(lt["step_weeks"]), int(lt["lookback_weeks"])
    capacity = float(config["capacity"])
    weeks = []
    w = pd.Timestamp(end)
    while w >= min(split.test):
        weeks.append(w)
        w -= step * WEEK
    weeks = sorted(weeks)
    listed: dict[str, list[pd.DataFrame]] = {name: [] for name in scorers}
    year_eligible: set = set()
    eligible: set = set()
    for i, (week, frame) in enumerate(iter_frames(tables, policy, weeks, int(config.get("workers", 1)))):
        frame = frame.loc[~frame["under_monitoring"].to_numpy(dtype=bool)].reset_index(drop=True)
        ids = frame["household_id"].to_numpy()
        eligible.update(ids)
        if week < weeks[0] + 52 * WEEK:
            year_eligible.update(ids)
        group = np.zeros(len(frame))
        for name, score in scorers.items():
            mask = mt.top_share(score(frame), group, capacity)
            listed[name].append(pd.DataFrame({"household_id": ids[mask], "week": week}))
        progress("watch lists", i + 1, len(weeks))
    first_full = weeks[0] + lookback * WEEK
    outcomes = tables["outcomes"]
    entries = outcomes.loc[(outcomes["entry_date"] > first_full) & (outcomes["entry_date"] <= end),
                           ["household_id", "entry_date"]]
    listings = {name: pd.concat(parts, ignore_index=True) for name, parts in listed.items()}
    result = {name: ev.lead_times(frame, entries, horizon_weeks=lookback) for name, frame in listings.items()}
    for name, frame in listings.items():
        result[name]["list_coverage_52w"] = ev.list_coverage(frame, len(year_eligible))
    result["random_list"] = {
        **ev.random_list_lead(listings["model"], entries, np.array(sorted(eligible)), horizon_weeks=lookback,
                              draws=int(lt.get("random_draws", 20)), seed=int(config["model"]["random_state"])),
        "list_coverage_52w": result["model"]["list_coverage_52w"],
    }
    for r in result.values():
        r["entries_from"] = str(first_full.date())
        r["lists"] = len(weeks)
    return result, len(weeks)
