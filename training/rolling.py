"""Rolling-origin backtests: the whole procedure (trees, calibrator choice, baselines) refit at each
origin, one outcome year apart, and judged per year and pooled.

Origin 0 is the configured time split (test part = the newest 26 weeks of matured cutoffs); origin
k moves every part back k x 52 weeks, so the test parts' outcome windows are adjacent years. The
frames are built once for every matured cutoff and reused by every origin.

Pooled figures put all years' test rows together (each row scored by its own origin's model; lists
stay per cutoff). Township-years with a declared shock (``training.shocks``) are named and
reported beside the pooled *normal* rows, which the gates judge. Intervals resample households and
township-years at once (a product of independent cluster weights, the two-way "pigeonhole"
bootstrap): a year's township-level surprise moves the figures the way a new year would, so the
interval says how far another year may fall.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from models import metrics as mt
from training.dataset import LABEL
from training.split import WEEK, TimeSplit, time_split
from training.uncertainty import RankedScore, interval

Scorer = Callable[[pd.DataFrame], np.ndarray]
# Columns a pooled backtest row keeps: enough for lists, clusters and slices, no features.
KEEP = ["household_id", "township", "village", "cutoff", "category", "elderly_only", "n_disabled", "n_chronic",
        "n_major_illness", "minority_township", "next_entry_date", LABEL]


def backtest_splits(cutoffs: list[pd.Timestamp], config: dict[str, Any]) -> list[TimeSplit]:
    """Origin 0 (the configured split) and up to ``backtest.years - 1`` earlier origins, each one
    year before the next, as long as each keeps ``backtest.min_train_cutoffs`` training cutoffs
    spanning at least ``backtest.min_train_span_weeks`` (newest minus oldest): an origin whose trees
    saw one or two cutoffs judges a different procedure from the one that serves."""
    sp, bt = config["split"], config.get("backtest", {})
    horizon = int(config["horizon_weeks"])
    years, min_train = int(bt.get("years", 3)), int(bt.get("min_train_cutoffs", 1))
    min_span = int(bt.get("min_train_span_weeks", 0)) * WEEK
    cs = sorted(pd.Timestamp(c) for c in cutoffs)
    out: list[TimeSplit] = []
    for k in range(max(years, 1)):
        shifted = [c for c in cs if c <= cs[-1] - k * 52 * WEEK]
        try:
            split = time_split(shifted, horizon_weeks=horizon, test_weeks=int(sp["test_weeks"]),
                               calibrate_weeks=int(sp["calibrate_weeks"]), gap_weeks=int(sp["gap_weeks"]))
        except ValueError:
            break
        if k and (len(split.train) < min_train or max(split.train) - min(split.train) < min_span):
            break
        out.append(split)
    return out


def outcome_window(split: TimeSplit) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of the test part's label windows."""
    return min(split.test), max(split.test) + split.horizon_weeks * WEEK


def year_label(split: TimeSplit) -> str:
    """The outcome year of an origin, as its outcome window's months (e.g. 2024-07..2025-12)."""
    first, last = outcome_window(split)
    return f"{first:%Y-%m}..{last:%Y-%m}"


def figures(y: np.ndarray, score: np.ndarray, listed: np.ndarray, mask: np.ndarray, *,
            probability: bool) -> dict[str, float]:
    """AUC, recall/precision of the given (county-wide) lists, and for probabilities top-5% and
    overall observed/expected and ECE, over the rows in ``mask``."""
    y, score, listed = np.asarray(y).astype(int)[mask], np.asarray(score, float)[mask], listed[mask]
    recall, precision = mt.recall_precision(y, listed)
    base = float(y.mean()) if len(y) else float("nan")
    out = {"rows": int(len(y)), "entrants": int(y.sum()), "base_rate": base, "auc": mt.safe_auc(y, score),
           "recall_at_5pct": recall, "precision_at_5pct": precision}
    if probability:
        ece = mt.expected_calibration_error(y, score)
        out.update(ece=ece, ece_relative=ece / base if base > 0 else float("nan"),
                   observed_expected=mt.observed_expected(y, score),
                   top5_observed_expected=mt.observed_expected(y[listed], score[listed]))
    return out


def two_way_weights(first: np.ndarray, second: np.ndarray, replicates: int, seed: int) -> Iterator[np.ndarray]:
    """Row weights of each replicate: (draws of the row's household) x (draws of its
    township-year), each cluster set drawn with replacement independently."""
    a_codes = np.unique(first.astype(str), return_inverse=True)[1]
    b_codes = np.unique(second.astype(str), return_inverse=True)[1]
    na, nb = a_codes.max() + 1, b_codes.max() + 1
    rng = np.random.default_rng(seed)
    for _ in range(replicates):
        wa = np.bincount(rng.integers(0, na, na), minlength=na)
        wb = np.bincount(rng.integers(0, nb, nb), minlength=nb)
        yield (wa[a_codes] * wb[b_codes]).astype(float)


@dataclass
class Backtest:
    """Per-year and pooled figures of the procedure and every baseline."""

    years: list[dict[str, Any]]
    pooled: dict[str, dict[str, float]]           # scorer -> figures on pooled normal rows
    pooled_all: dict[str, float]                  # the model on every pooled row, shocks included
    intervals: dict[str, Any]
    shocks: pd.DataFrame
    frame: pd.DataFrame                           # pooled rows: KEEP + year, normal, scores
    scores: dict[str, np.ndarray]
    calibrators: list[dict[str, Any]] = field(default_factory=list)
    strongest: str | None = None

    def summary(self) -> dict[str, Any]:
        """What ``fanpin train --json`` and metrics.json report."""
        return {"years": self.years, "pooled_normal": self.pooled, "pooled_all_model": self.pooled_all,
                "intervals": self.intervals, "strongest_baseline": self.strongest,
                "shock_township_years": self.shocks.to_dict(orient="records"), "calibrators": self.calibrators}


def run_backtest(
    rows: pd.DataFrame, splits: list[TimeSplit], fit: Callable[[pd.DataFrame, pd.DataFrame], Any],
    baselines: Callable[[pd.DataFrame, pd.DataFrame], dict[str, Scorer]], shocks: pd.DataFrame, *,
    capacity: float = 0.05, replicates: int = 200, seed: int = 0,
    flags: Callable[[pd.DataFrame], dict[str, np.ndarray]] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Backtest:
    """Refit the procedure at each origin, score its test part with it and with the baselines
    fitted on that origin's training part, and summarise per year and pooled.

    Args:
        rows: training rows at (at least) every cutoff of every split.
        splits: the origins (``backtest_splits``), newest first.
        fit: (training rows, calibration rows) -> a fitted model with ``predict_proba``.
        baselines: (training rows, calibration rows) -> {name: frame -> score}; names starting
            with "rules" (hand-set) are ranks, not probabilities.
        shocks: ``training.shocks.shock_township_years`` for these splits' outcome windows.
        flags: test rows -> extra row flags kept on the pooled rows (e.g. no official criterion).
    """
    parts, calibrators = [], []
    names: list[str] = []
    for i, split in enumerate(splits):
        year = year_label(split)
        train = rows.loc[rows["cutoff"].isin(list(split.train))].reset_index(drop=True)
        calib = rows.loc[rows["cutoff"].isin(list(split.calibrate))].reset_index(drop=True)
        test = rows.loc[rows["cutoff"].isin(list(split.test))].reset_index(drop=True)
        model = fit(train, calib)
        if progress:
            progress("backtest origins", i + 1, len(splits))
        chosen = getattr(model, "calibration_", None)
        calibrators.append({"year": year, "chosen": chosen, "candidates": list(getattr(model, "calibration_table_", []))})
        scored = test[[c for c in KEEP if c in test]].copy()
        scored["year"] = year
        scored["model"] = model.predict_proba(test)[:, 1]
        for name, flag in (flags(test) if flags else {}).items():
            scored[name] = flag
        fns = baselines(train, calib)
        for name, fn in fns.items():
            scored[name] = fn(test)
        names = list(fns)
        parts.append(scored)
    frame = pd.concat(parts, ignore_index=True)
    shock_keys = set(zip(shocks["year"], shocks["township"], strict=True)) if len(shocks) else set()
    frame["township_year"] = frame["year"] + "|" + frame["township"].astype(str)
    frame["normal"] = [(y, t) not in shock_keys for y, t in zip(frame["year"], frame["township"], strict=True)]
    y = frame[LABEL].to_numpy().astype(int)
    groups = frame["cutoff"].to_numpy()
    scorers = ["model", *names]
    scores = {n: frame[n].to_numpy(dtype=float) for n in scorers}
    listed = {n: mt.top_share(s, groups, capacity) for n, s in scores.items()}
    normal = frame["normal"].to_numpy()
    pooled = {n: figures(y, scores[n], listed[n], normal, probability=n == "model") for n in scorers}
    pooled_all = figures(y, scores["model"], listed["model"], np.ones(len(y), bool), probability=True)
    strongest = max(names, key=lambda n: pooled[n]["recall_at_5pct"]) if names else None
    intervals = _intervals(frame, y, scores, listed, normal, names, replicates, seed)
    years = []
    for split in splits:
        year = year_label(split)
        in_year = (frame["year"] == year).to_numpy()
        model_normal = figures(y, scores["model"], listed["model"], in_year & normal, probability=True)
        model_all = figures(y, scores["model"], listed["model"], in_year, probability=True)
        base = {n: figures(y, scores[n], listed[n], in_year & normal, probability=False)["recall_at_5pct"]
                for n in names}
        named = shocks.loc[shocks["year"] == year, "township"].tolist() if len(shocks) else []
        inside = {k: _inside(model_normal[k], intervals["model"].get(k)) for k in ("auc", "recall_at_5pct")}
        years.append({"year": year, "test_first": str(min(split.test).date()), "test_last": str(max(split.test).date()),
                      "train_last": str(max(split.train).date()),
                      **{k: model_normal[k] for k in ("rows", "entrants", "base_rate", "auc", "recall_at_5pct",
                                                      "precision_at_5pct", "observed_expected",
                                                      "top5_observed_expected", "ece_relative")},
                      "with_shocks": {k: model_all[k] for k in ("entrants", "auc", "recall_at_5pct",
                                                                "top5_observed_expected", "ece_relative")},
                      "baselines_recall_at_5pct": base, "shock_townships": named,
                      "inside_pooled_interval": inside,
                      "calibrator": next(c["chosen"] for c in calibrators if c["year"] == year)})
    return Backtest(years=years, pooled=pooled, pooled_all=pooled_all, intervals=intervals, shocks=shocks,
                    frame=frame, scores=scores, calibrators=calibrators, strongest=strongest)


def _inside(value: float, bounds: list | None) -> bool | None:
    if not bounds or bounds[0] is None:
        return None
    return bool(bounds[0] <= value <= bounds[1])


def _intervals(frame: pd.DataFrame, y: np.ndarray, scores: dict[str, np.ndarray], listed: dict[str, np.ndarray],
               normal: np.ndarray, names: list[str], replicates: int, seed: int) -> dict[str, Any]:
    """Two-way clustered (household x township-year) 95% intervals on the pooled normal rows."""
    rows = np.flatnonzero(normal)
    yn = y[rows].astype(bool)
    ranked = RankedScore(yn, scores["model"][rows])
    draws: dict[str, dict[str, list[float]]] = {n: {"recall_at_5pct": []} for n in ["model", *names]}
    draws["model"].update(auc=[], top5_observed_expected=[])
    ratio: list[float] = []
    p = scores["model"][rows]
    top = listed["model"][rows]
    for w in two_way_weights(frame["household_id"].to_numpy()[rows], frame["township_year"].to_numpy()[rows],
                             replicates, seed):
        for n in draws:
            draws[n]["recall_at_5pct"].append(mt.recall_precision(yn, listed[n][rows], w)[0])
        draws["model"]["auc"].append(ranked.auc_ap(w)[0])
        draws["model"]["top5_observed_expected"].append(mt.observed_expected(yn[top], p[top], w[top]))
        best = max((draws[n]["recall_at_5pct"][-1] for n in names), default=float("nan"))
        ratio.append(draws["model"]["recall_at_5pct"][-1] / best if best and np.isfinite(best) else float("nan"))
    return {**{n: {k: interval(v) for k, v in d.items()} for n, d in draws.items()},
            "recall_ratio_vs_strongest": interval(ratio), "replicates": replicates,
            "clusters": {"households": int(frame.loc[normal, "household_id"].nunique()),
                         "township_years": int(frame.loc[normal, "township_year"].nunique())}}
