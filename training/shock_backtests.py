"""Shock backtests: what the weekly job's shock response does for a flooded township 4, 8 and 12
weeks into a flood, judged on what happened after.

For each past shock (``features.shocks.shock_onsets``: the weekly rule, by recorded date; the
onset is the first Sunday the detector fires, i.e. once the first records are in) and each offset
``k`` in ``offsets``, the cutoff is onset + k weeks. A model is fitted on the cutoffs whose labels
had matured by the shock's first cutoff (onset + the smallest offset) and reused at the later
ones, so nothing after a cutoff is read. At each cutoff every eligible household is scored and
the weekly job's list (each township's top ``capacity`` of its households: capacities in
proportion to the townships' sizes) is drawn twice:

- *without*: the model as it is;
- *with the response*: what the weekly job does (``serving.weekly.shock``): households of an area
  whose 4-week disaster rate is over the rule at the cutoff are scored with the offset learned
  from past shocks before the cutoff only (``features.shocks.learned_offset``), and an area that
  fired in any of the last ``capacity_weeks`` weeks gets its extra visits (its places raised to
  its share of the model's expected entries, at least one more; taken from the other townships),
  as if the county had confirmed the proposal.

Figures per shock and cutoff: the hit township's recall and observed/expected (entries within
the label horizon against the sum of the scores), and the county's recall with the same lists;
beside them the same on one county-wide top ``capacity`` list (training's recall at 5%). The done-when of issue 33: with the response, the township's recall within 0.05 of
the county's and O/E within 0.8–1.25.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from features.shocks import ShockRule, adjusted, learned_offset, recent_shock, shock_onsets
from models import metrics as mt
from training.dataset import LABEL
from training.split import WEEK

OFFSETS = (4, 8, 12)


def shock_cutoffs(tables: dict[str, pd.DataFrame], rule: ShockRule, *, data_end: pd.Timestamp,
                  horizon_weeks: int, offsets: tuple[int, ...] = OFFSETS) -> pd.DataFrame:
    """Every past shock with its cutoffs and whether it can be judged: ``matured`` (the label window
    of the last cutoff ends by ``data_end``). Columns: area, onset, per_100, offset_weeks, cutoff,
    matured."""
    onsets = shock_onsets(tables, rule, until=data_end)
    rows = [{"area": r.area, "onset": pd.Timestamp(r.onset), "per_100": r.per_100, "offset_weeks": k,
             "cutoff": pd.Timestamp(r.onset) + k * WEEK,
             "matured": pd.Timestamp(r.onset) + (k + horizon_weeks) * WEEK <= pd.Timestamp(data_end)}
            for r in onsets.itertuples() for k in offsets]
    return pd.DataFrame(rows, columns=["area", "onset", "per_100", "offset_weeks", "cutoff", "matured"])


def response_at(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp, rule: ShockRule,
                capacity_weeks: int) -> dict[str, Any]:
    """What the weekly job would do at ``cutoff``: areas firing now (offset), areas with extra
    capacity in force (fired in any of the last ``capacity_weeks`` weeks), the learned offset."""
    firing = set(_firing(tables, cutoff, rule))
    held = set()
    for back in range(capacity_weeks):
        held |= set(_firing(tables, cutoff - back * WEEK, rule))
    learned = learned_offset(tables, cutoff, rule)
    return {"firing": firing, "capacity": held, "offset": float(learned["offset"]),
            "learned_from": len(learned["shocks"])}


def _firing(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp, rule: ShockRule) -> list[str]:
    recent = recent_shock(tables, cutoff, rule)
    return recent.loc[recent["shock"], "area"].tolist()


def lists(p: np.ndarray, area: np.ndarray, capacity: float, extra_for: set, ratio: float,
          targets: dict[str, int] | None = None) -> np.ndarray:
    """The weekly job's list: each area's top ``ceil(capacity * its rows)`` by ``p`` (capacities in
    proportion to the areas' sizes). An area in ``extra_for`` gets ``max(1, ceil(own * (ratio -
    1)))`` more places, taken from the other areas in proportion to theirs (the weekly job's
    capacity proposal, confirmed); with ``targets``, the area's places are raised to its target
    instead (never lowered)."""
    names, codes = np.unique(area, return_inverse=True)
    sizes = np.bincount(codes, minlength=len(names))
    quota = {n: int(math.ceil(capacity * k)) for n, k in zip(names, sizes, strict=True)}
    for hit in sorted(extra_for):
        if hit not in quota:
            continue
        extra = (max(0, targets[hit] - quota[hit]) if targets is not None
                 else max(1, math.ceil(quota[hit] * (ratio - 1))))
        others = {n: q for n, q in quota.items() if n != hit and n not in extra_for}
        total = sum(others.values()) or 1
        for n, q in others.items():
            quota[n] = max(0, q - int(round(extra * q / total)))
        quota[hit] += extra
    listed = np.zeros(len(p), bool)
    for j, n in enumerate(names):
        rows = np.flatnonzero(codes == j)
        listed[rows[np.argsort(-p[rows], kind="stable")[: quota[n]]]] = True
    return listed


def risk_share_targets(p: np.ndarray, area: np.ndarray, capacity: float, hit: set) -> dict[str, int]:
    """Places for each hit area in proportion to its share of the county's expected entries (the
    sum of the model's risks) — capacity that follows the model's own risk instead of the raw
    entry surge of past shocks."""
    total = math.ceil(capacity * len(p))
    expected = float(p.sum()) or 1.0
    return {a: int(round(total * float(p[area == a].sum()) / expected)) for a in hit}


def county_list(p: np.ndarray, capacity: float) -> np.ndarray:
    """The county-wide top ``ceil(capacity * n)`` (training's recall at 5%)."""
    listed = np.zeros(len(p), bool)
    listed[np.argsort(-p, kind="stable")[: int(math.ceil(capacity * len(p)))]] = True
    return listed


def judge(rows: pd.DataFrame, p: np.ndarray, township: str, capacity: float, response: dict[str, Any],
          level: str = "township") -> dict[str, Any]:
    """The township's and the county's figures without and with the response at one cutoff."""
    y = rows[LABEL].to_numpy().astype(int)
    area = rows[level].astype(str).to_numpy()
    town = rows["township"].astype(str).to_numpy() == township
    offset = np.where(np.isin(area, list(response["firing"])), response["offset"], 0.0)
    p_with = adjusted(p, offset)
    ratio = math.exp(response["offset"]) if response["offset"] else 2.0
    places = rows["township"].astype(str).to_numpy()  # capacities are townships'
    plain = lists(p, places, capacity, set(), ratio)
    hit = set(response["capacity"]) & set(places)
    # the weekly job's proposal: places raised to the township's share of the model's own expected
    # entries, at least one more (serving.weekly.shock._proposal)
    own = {a: math.ceil(capacity * int((places == a).sum())) for a in hit}
    targets = {a: max(own[a] + 1, t) for a, t in risk_share_targets(p, places, capacity, hit).items()}
    helped = lists(p_with, places, capacity, hit, ratio, targets)
    out: dict[str, Any] = {"township_rows": int(town.sum()), "township_entrants": int(y[town].sum()),
                           "county_entrants": int(y.sum()), "offset": round(response["offset"], 4),
                           "offset_learned_from_shocks": response["learned_from"],
                           "firing": township in response["firing"],
                           "extra_capacity": township in response["capacity"]}
    for name, score, listed in (("without", p, plain), ("with", p_with, helped)):
        out[f"recall_{name}"] = _round(mt.recall_precision(y[town], listed[town])[0])
        out[f"observed_expected_{name}"] = _round(mt.observed_expected(y[town], score[town]))
        out[f"county_recall_{name}"] = _round(mt.recall_precision(y, listed)[0])
        wide = county_list(score, capacity)  # beside: one county-wide list, no township quotas
        out[f"county_wide_list_recall_{name}"] = _round(mt.recall_precision(y[town], wide[town])[0])
        out[f"county_wide_list_county_recall_{name}"] = _round(mt.recall_precision(y, wide)[0])
    out["met"] = bool(abs(out["recall_with"] - out["county_recall_with"]) <= 0.05
                      and 0.8 <= out["observed_expected_with"] <= 1.25)
    return out


def _round(x: float) -> float:
    return round(float(x), 4) if x == x else float("nan")


def run_shock_backtests(
    tables: dict[str, pd.DataFrame], rows_at: Callable[[list[pd.Timestamp]], pd.DataFrame],
    fit_before: Callable[[pd.Timestamp], Any], *, data_end: pd.Timestamp, horizon_weeks: int,
    rule: ShockRule | None = None, capacity: float = 0.05, capacity_weeks: int = 8,
    offsets: tuple[int, ...] = OFFSETS,
) -> list[dict[str, Any]]:
    """One record per past shock and cutoff offset (``shock_backtests`` of ``fanpin train --json``).

    Args:
        rows_at: cutoffs -> training rows (features, ``township``, label) at those cutoffs.
        fit_before: a cutoff -> a model fitted only on rows whose labels matured by it (None when
            the history before it is too short to fit one).
    Shocks whose labels have not matured, or with no model before them, are listed with a reason.
    """
    rule = rule or ShockRule()
    cases = shock_cutoffs(tables, rule, data_end=data_end, horizon_weeks=horizon_weeks, offsets=offsets)
    out: list[dict[str, Any]] = []
    for (area, onset), part in cases.groupby(["area", "onset"], sort=False):
        base = {"township": area, "onset": str(onset.date()), "per_100": float(part["per_100"].iloc[0])}
        if not part["matured"].all():
            out += [{**base, "offset_weeks": int(k), "cutoff": str(c.date()), "skipped": "label not matured"}
                    for k, c in zip(part["offset_weeks"], part["cutoff"], strict=True)]
            continue
        model = fit_before(part["cutoff"].min())
        if model is None:
            out += [{**base, "offset_weeks": int(k), "cutoff": str(c.date()), "skipped": "no training window before it"}
                    for k, c in zip(part["offset_weeks"], part["cutoff"], strict=True)]
            continue
        frames = rows_at(list(part["cutoff"]))
        for k, cutoff in zip(part["offset_weeks"], part["cutoff"], strict=True):
            rows = frames.loc[pd.to_datetime(frames["cutoff"]) == cutoff].reset_index(drop=True)
            p = model.predict_proba(rows)[:, 1]
            response = response_at(tables, cutoff, rule, capacity_weeks)
            out.append({**base, "offset_weeks": int(k), "cutoff": str(cutoff.date()),
                        **judge(rows, p, area, capacity, response, rule.level)})
    return out


def matured_fitter(rows_at: Callable[[list[pd.Timestamp]], pd.DataFrame], cutoffs: list[pd.Timestamp],
                   procedure: Callable[[pd.DataFrame, pd.DataFrame], Any], *, horizon_weeks: int,
                   calibrate_weeks: int = 13, min_train_cutoffs: int = 4) -> Callable[[pd.Timestamp], Any]:
    """``fit_before`` for :func:`run_shock_backtests`: the procedure fitted on the cutoffs whose
    labels matured by the given day, the newest ``calibrate_weeks`` of them calibrating (no gap:
    a shock's first year would leave nothing to fit; the calibration rows' labels still end
    before the day). None when fewer than ``min_train_cutoffs`` remain to fit on or a part has
    one class."""

    def fit_before(day: pd.Timestamp) -> Any:
        matured = sorted(c for c in cutoffs if pd.Timestamp(c) + horizon_weeks * WEEK <= pd.Timestamp(day))
        if not matured:
            return None
        calib = [c for c in matured if c > matured[-1] - calibrate_weeks * WEEK]
        train = [c for c in matured if c not in set(calib)]
        if len(train) < min_train_cutoffs:
            return None
        frame = rows_at(matured)
        cut = pd.to_datetime(frame["cutoff"])
        fit_rows, calib_rows = frame.loc[cut.isin(train)], frame.loc[cut.isin(calib)]
        if fit_rows[LABEL].nunique() < 2 or calib_rows[LABEL].nunique() < 2:
            return None
        return procedure(fit_rows, calib_rows)

    return fit_before


def for_training(tables: dict[str, pd.DataFrame], policy, rows: pd.DataFrame, cutoffs: list[pd.Timestamp],
                 procedure: Callable[[pd.DataFrame, pd.DataFrame], Any], config: dict[str, Any], *,
                 data_end: pd.Timestamp, workers: int = 1) -> list[dict[str, Any]]:
    """``shock_backtests`` of a training run (config ``shock_backtests:``; ``enabled: false`` skips):
    reuses the run's point-in-time rows and builds only the shock cutoffs it lacks."""
    from training.dataset import build_training_rows

    scfg = config.get("shock_backtests") or {}
    if not scfg.get("enabled", True):
        return []
    horizon = int(config["horizon_weeks"])
    built: dict[pd.Timestamp, pd.DataFrame] = {}

    def rows_at(cs: list[pd.Timestamp]) -> pd.DataFrame:
        cs = [pd.Timestamp(c) for c in cs]
        have = set(pd.to_datetime(rows["cutoff"]).unique())
        todo = [c for c in cs if c not in have and c not in built]
        if todo:
            new = build_training_rows(tables, policy, todo, horizon_weeks=horizon, workers=workers)
            built.update({pd.Timestamp(c): part for c, part in new.groupby(pd.to_datetime(new["cutoff"]))})
        parts = [rows.loc[pd.to_datetime(rows["cutoff"]).isin(cs)]] + [built[c] for c in cs if c in built]
        return pd.concat(parts, ignore_index=True)

    rule = ShockRule(weeks=int(scfg.get("weeks", 4)), per_100=float(scfg.get("per_100", 10.0)))
    fit_before = matured_fitter(rows_at, cutoffs, procedure, horizon_weeks=horizon)
    return run_shock_backtests(tables, rows_at, fit_before, data_end=data_end, horizon_weeks=horizon, rule=rule,
                               capacity=float(config["capacity"]), capacity_weeks=int(scfg.get("capacity_weeks", 8)),
                               offsets=tuple(int(k) for k in scfg.get("offsets", OFFSETS)))


def summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """How many judged shock cutoffs meet the done-when, and the pooled township figures."""
    judged = [r for r in records if "skipped" not in r]
    return {"judged": len(judged), "met": sum(r["met"] for r in judged),
            "skipped": len(records) - len(judged)}


def shock_backtests_json(records: list[dict[str, Any]], run_id: str) -> dict[str, Any]:
    """``shock_backtests`` (and their summary) for ``fanpin train --json``, logged on the run."""
    import mlflow

    mlflow.MlflowClient().log_dict(run_id, {"shock_backtests": records, **summary(records)}, "shock_backtests.json")
    return {"shock_backtests": records, "shock_backtests_summary": summary(records)}
