"""Simulate a county's registry history week by week and measure its true risk at cutoffs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from features.progress import report
from features.simulator import oracle as O
from features.simulator import state as S
from features.simulator.calendar import Week, day_number, from_day, weeks_between
from features.simulator.history import Recorder
from features.simulator.parameters import Parameters
from features.simulator.planned_floods import check_floods
from features.simulator.population import build_county
from features.simulator.step import advance, prepare

log = logging.getLogger(__name__)

STREAMS = ("population", "dynamics", "recorder", "oracle", "scenario", "snapshot")


def streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent random streams, one per purpose, from one seed."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(s) for name, s in zip(STREAMS, children, strict=True)}


# The oracle's cutoffs: this many Sundays, ORACLE_SPACING weeks apart, ending with the last whose
# 52-week future lies in the history; all inside training's test part (its newest 26 weeks of
# cutoffs, anchored at that same Sunday and ORACLE_SPACING = the default cutoff step), so neither
# the trees nor the calibrator saw their labels. Seven cutoffs x 2,000 households give ~250
# entrants among the oracle rows at ~2% a year (issue 28: 36 with 3 x 600).
ORACLE_CUTOFFS = 7
ORACLE_SPACING = 4
# Two burn-in years before the 2019 monitoring lines matter to training: the rolling backtest's
# oldest origin (three outcome years back) then still has two years of training cutoffs.
DEFAULT_START = date(2017, 1, 1)
ORACLE_SAMPLE = 2000
ORACLE_REPLICAS = 60


def default_cutoffs(weeks: list[Week]) -> list[int]:
    """Week indices of the oracle's cutoffs (Sundays) whose 52-week futures lie inside the history:
    the last possible one and ``ORACLE_CUTOFFS - 1`` more, ``ORACLE_SPACING`` weeks apart.
    Calibration and training cutoffs get no oracle."""
    last = len(weeks) - 1 - O.HORIZON_WEEKS
    return sorted({k for k in (last - j * ORACLE_SPACING for j in range(ORACLE_CUTOFFS)) if k >= 52})


@dataclass
class CountyRun:
    """Everything one simulated county produced (English codes; export.py writes it)."""

    tables: dict[str, pd.DataFrame]
    weeks: list[Week]
    county: S.County
    household_ids: np.ndarray
    oracle: pd.DataFrame
    latent: pd.DataFrame
    entries: list[np.ndarray]
    parameters: dict = field(default_factory=dict)
    entry_lead_weeks: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    recording: dict = field(default_factory=dict)
    # the true state each week (households in hardship the home check would accept): truth only
    hardship: pd.DataFrame | None = None


def household_ids(c: S.County) -> np.ndarray:
    """Registry household numbers: area code, township, village, serial within the village."""
    from features.simulator.identity import AREA_CODE

    v = c.h["village"]
    # households that formed later take the next serials of their village
    order = np.lexsort((np.arange(len(v)), v))
    first_in_village = np.searchsorted(v[order], np.arange(len(c.v["township"])))
    serial = np.empty(len(v), np.int64)
    serial[order] = np.arange(len(v)) - first_in_village[v[order]] + 1
    t = c.v["township"]
    local = np.arange(len(t)) - np.searchsorted(t, t)  # village number within its township
    return np.char.add(
        np.char.add(np.char.add(AREA_CODE, np.char.zfill((c.h["township"] + 1).astype(str), 3)),
                    np.char.zfill((local[v] + 1).astype(str), 3)),
        np.char.zfill(serial.astype(str), 4),
    ).astype(object)


def simulate_county(
    n_households: int,
    seed: int,
    start: date = DEFAULT_START,
    end: date = date(2025, 12, 31),
    oracle_sample: int = ORACLE_SAMPLE,
    oracle_replicas: int = ORACLE_REPLICAS,
    cutoffs: list[date] | None = None,
    params: Parameters | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> CountyRun:
    """Run the weekly simulation and the oracle.

    Args:
        n_households: households in the county.
        seed: the one seed every random stream derives from.
        start: first day of the history.
        end: last day; the history ends with the last full ISO week on or before it.
        oracle_sample: households whose true risk is estimated at each cutoff (0: no oracle).
        oracle_replicas: re-simulated futures per household.
        cutoffs: oracle cutoff dates (Sundays; default: three inside the history).
        params: model parameters (defaults: :class:`Parameters`).
        progress: called as progress(done, total, stage) for a progress bar.
    """
    p = params or Parameters()
    rng = streams(seed)
    weeks = weeks_between(start, end)
    if len(weeks) < 2:
        raise ValueError("the period must hold at least two full weeks")
    start_day = day_number(start)
    c = build_county(n_households, start_day, rng["population"], spare=0.3, spare_households=0.15)
    check_floods(p.planned_floods, c.township_names)
    prepare(c, weeks[0], rng["population"], p)
    rec = Recorder(c, start_day, rng["recorder"])
    if cutoffs is None:
        cut_idx = default_cutoffs(weeks)
    else:
        by_sunday = {w.sunday: w.index for w in weeks}
        cut_idx = [by_sunday[day_number(d)] for d in cutoffs if day_number(d) in by_sunday]
    snapshots: dict[int, S.County] = {}
    entries: list[np.ndarray] = []
    total = len(weeks) + (len(cut_idx) if oracle_sample else 0)
    for week in weeks:
        entries.append(advance(c, week, rng["dynamics"], p, rec))
        if oracle_sample and week.index in cut_idx:
            snapshots[week.index] = c.copy()
        if progress:
            progress(week.index + 1, total, "simulating weeks")
        report(log, "simulate", week.index + 1, total, "weeks")
    ids = household_ids(c)
    tables = rec.tables(c, ids)

    rows = []
    for j, k in enumerate(sorted(snapshots)):
        snap = snapshots[k]
        sample = O.sample_households(snap, oracle_sample, rng["oracle"])
        future = weeks[k + 1: k + 1 + O.HORIZON_WEEKS]
        risk = O.true_risk(snap, sample, future, oracle_replicas, rng["oracle"], p)
        realised = np.zeros(c.n_households, bool)
        for e in entries[k + 1: k + 1 + O.HORIZON_WEEKS]:
            realised[e] = True
        rows.append(pd.DataFrame({
            "household_id": ids[sample],
            "cutoff": pd.Timestamp(from_day(weeks[k].sunday)),
            "true_risk": risk,
            "entered_within_52_weeks": realised[sample],
        }))
        if progress:
            progress(len(weeks) + j + 1, total, "oracle futures")
        report(log, "simulate", len(weeks) + j + 1, total, "oracle futures")
    oracle = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        {"household_id": [], "cutoff": [], "true_risk": [], "entered_within_52_weeks": []})
    latent = latent_traits(c, ids)
    parameters = {"households": n_households, "seed": seed, "start": str(start), "end": str(end),
                  "oracle_sample": oracle_sample, "oracle_replicas": oracle_replicas,
                  "cutoffs": [str(from_day(weeks[k].sunday)) for k in sorted(snapshots)]}
    if p.planned_floods:  # recorded only when used: a default county's truth stays byte-identical
        parameters["planned_floods"] = [f.as_dict() for f in p.planned_floods]
    return CountyRun(tables, weeks, c, ids, oracle, latent, entries, parameters,
                     np.concatenate(rec.lead_weeks) if rec.lead_weeks else np.zeros(0, np.int64),
                     recording_summary(rec), rec.hardship_table(ids))


def recording_summary(rec: Recorder) -> dict:
    """Median delay (weeks) from a change to its registry row per channel, share back-dated."""
    from features.simulator.registry import CHANNELS

    if not rec.lags:
        return {"median_recording_delay_weeks": {}, "share_backdated_records": 0.0}
    channel = np.concatenate([x[0] for x in rec.lags])
    days = np.concatenate([x[1] for x in rec.lags])
    back = np.concatenate([x[2] for x in rec.lags])
    return {
        "median_recording_delay_weeks": {name: round(float(np.median(days[channel == i])) / 7, 2)
                                         for i, name in enumerate(CHANNELS) if (channel == i).any()},
        "share_backdated_records": round(float(back.mean()), 4),
    }


def latent_traits(c: S.County, ids: np.ndarray) -> pd.DataFrame:
    """Per-member latent traits (diagnostics only; never part of history or exports)."""
    m = c.m
    used = np.flatnonzero(m["used"])
    member_ids = np.char.add(ids[m["hh"][used]].astype(str), np.char.zfill(m["serial"][used].astype(str), 2))
    return pd.DataFrame({
        "household_id": ids[m["hh"][used]],
        "member_id": member_ids,
        "frailty": m["frailty"][used].astype(np.float64),
        "work_ethic": m["ethic"][used].astype(np.float64),
        "ability": m["ability"][used].astype(np.float64),
        "household_luck": c.h["luck"][m["hh"][used]].astype(np.float64),
        "household_disadvantage": c.h["z"][m["hh"][used]].astype(np.float64),
    }).sort_values("member_id", kind="stable").reset_index(drop=True)
