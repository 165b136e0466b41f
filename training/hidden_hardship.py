"""Hardship nobody reported, as a second target: how much of it a list finds, and a model that
learns from the random audit's findings.

The label is "entered monitoring", an officers' decision. In the simulator the true state is
known (``truth/hardship.parquet``, ``features.hardship``): a test row is in hardship when its
household spent at least 4 weeks of the outcome window meeting a criterion the home check would
accept; *hidden* hardship is such a row whose household did not enter monitoring in the window.
A county learns the same from its quarterly audit sample (``features.audit``):
``audit_targets`` simulates that sample in the training part, so a model can be trained on
entry OR audit-confirmed hardship, each audited row weighted by the households it stands for.
Simulator figures only: never evidence about a real county.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from features.audit import draw_sample, quarter_of
from features.hardship import in_hardship
from models import metrics as mt
from training.dataset import LABEL


def hidden_rows(test: pd.DataFrame, truth: pd.DataFrame, horizon_weeks: int) -> tuple[np.ndarray, np.ndarray]:
    """(in hardship, hidden hardship = in hardship and never entered in the window) per test row."""
    hard = in_hardship(truth, test[["household_id", "cutoff"]], horizon_weeks).astype(bool)
    return hard, hard & (test[LABEL].to_numpy() == 0)


def recall_with_interval(target: np.ndarray, listed: np.ndarray, households: np.ndarray, *,
                         replicates: int = 200, seed: int = 0) -> tuple[float | None, list[float | None]]:
    """Recall of ``listed`` on ``target`` rows with a 95% interval resampling households (Poisson
    weights per household: a household's rows move together)."""
    target = np.asarray(target, dtype=bool)
    if not target.any():
        return None, [None, None]
    listed = np.asarray(listed, dtype=bool)
    recall = float(listed[target].mean())
    codes, index = np.unique(np.asarray(households), return_inverse=True)
    rng = np.random.default_rng(seed)
    hit = np.bincount(index, weights=(target & listed).astype(float), minlength=len(codes))
    all_ = np.bincount(index, weights=target.astype(float), minlength=len(codes))
    draws = []
    for _ in range(replicates):
        w = rng.poisson(1.0, len(codes))
        total = (w * all_).sum()
        if total:
            draws.append((w * hit).sum() / total)
    low, high = np.percentile(draws, [2.5, 97.5]) if draws else (None, None)
    return round(recall, 4), [None if low is None else round(float(low), 4), None if high is None else round(float(high), 4)]


def hardship_figures(test: pd.DataFrame, scores: dict[str, np.ndarray], truth: pd.DataFrame, horizon_weeks: int, *,
                     capacity: float = 0.05, replicates: int = 200, seed: int = 0) -> dict[str, Any]:
    """Each scorer's recall at ``capacity`` (per cutoff lists) on entrants and on hidden hardship,
    with intervals, and the model's AUC on hardship. ``recall_hidden_hardship`` (and ``_ci``) is
    the model's."""
    hard, hidden = hidden_rows(test, truth, horizon_weeks)
    groups, households = test["cutoff"].to_numpy(), test["household_id"].to_numpy()
    y = test[LABEL].to_numpy().astype(bool)
    out: dict[str, Any] = {"hardship_rows": int(hard.sum()), "hidden_hardship_rows": int(hidden.sum()),
                           "hardship_share": round(float(hard.mean()), 4), "entry_share": round(float(y.mean()), 4),
                           "capacity": capacity, "by_scorer": {}}
    for name, score in scores.items():
        listed = mt.top_share(score, groups, capacity)
        r_hidden, ci_hidden = recall_with_interval(hidden, listed, households, replicates=replicates, seed=seed)
        r_entry, ci_entry = recall_with_interval(y, listed, households, replicates=replicates, seed=seed)
        out["by_scorer"][name] = {"recall_hidden_hardship": r_hidden, "recall_hidden_hardship_ci": ci_hidden,
                                  "recall_entrants": r_entry, "recall_entrants_ci": ci_entry,
                                  "auc_hardship": round(mt.safe_auc(hard, score), 4)}
    model = out["by_scorer"].get("model", {})
    out["recall_hidden_hardship"] = model.get("recall_hidden_hardship")
    out["recall_hidden_hardship_ci"] = model.get("recall_hidden_hardship_ci", [None, None])
    return out


def audit_targets(rows: pd.DataFrame, truth: pd.DataFrame, horizon_weeks: int, *, share: float = 0.015,
                  seed: int = 0, max_weight: float | None = None,
                  carry_quarter: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(label, weight, audited) for training on entry OR audit-confirmed hardship.

    At the first cutoff of each quarter among ``rows``, a stratified random sample (``share`` of
    each township's rows that did not enter) is audited, as the weekly job's audit samples the
    households on no list; an audited row's label is 1 when it entered or fell into hardship, and
    its weight is the inverse of its sampling probability (capped at ``max_weight`` when given).
    Every other row keeps its entry label and weight 1. ``carry_quarter``: an audited household's
    finding also labels (with the same weight) its other rows of that quarter that did not enter:
    the officers know it for the quarter, and its window overlaps theirs by 44-48 of 52 weeks.
    """
    y = rows[LABEL].to_numpy().astype(np.int8).copy()
    weight = np.ones(len(rows), dtype="float64")
    audited = np.zeros(len(rows), dtype=bool)
    cutoffs = sorted(pd.to_datetime(rows["cutoff"]).unique())
    quarter_starts = [c for i, c in enumerate(cutoffs) if i == 0 or quarter_of(cutoffs[i - 1]) != quarter_of(c)]
    when = pd.to_datetime(rows["cutoff"]).to_numpy()
    for cutoff in quarter_starts:
        at = np.flatnonzero((when == np.datetime64(cutoff)) & (y == 0))
        sample = draw_sample(rows.iloc[at], share, seed, quarter_of(cutoff)).set_index("household_id")
        chosen = rows["household_id"].iloc[at].isin(sample.index).to_numpy()
        idx = at[chosen]
        audited[idx] = True
        w = rows["household_id"].iloc[idx].map(sample["weight"]).to_numpy(dtype="float64")
        weight[idx] = w if max_weight is None else np.minimum(w, max_weight)
    hard = in_hardship(truth, rows.iloc[np.flatnonzero(audited)][["household_id", "cutoff"]], horizon_weeks).astype(bool)
    if carry_quarter and audited.any():
        quarter = pd.Series(pd.to_datetime(rows["cutoff"]).map(quarter_of).to_numpy())
        key = rows["household_id"].astype(str).to_numpy() + "|" + quarter.to_numpy()
        found = dict(zip(key[audited], zip(hard, weight[audited], strict=True), strict=True))
        carry = ~audited & (y == 0) & pd.Series(key).isin(found).to_numpy()
        idx = np.flatnonzero(carry)
        weight[idx] = [found[k][1] for k in key[idx]]
        y[idx[[found[k][0] for k in key[idx]]]] = 1
        y[np.flatnonzero(audited)[hard]] = 1
        return y, weight, audited | carry
    y[np.flatnonzero(audited)[hard]] = 1
    return y, weight, audited


def hidden_hardship_json(result, truth: pd.DataFrame | None, run_id: str) -> dict[str, Any]:
    """`recall_hidden_hardship` (and its interval) of the evaluated model's test lists at 5%, with
    the fitted rules beside it, when the county folder carries the simulator's true state; also
    logged on the training run. Simulator truth: never a figure about a real county."""
    if truth is None:
        return {"recall_hidden_hardship": None, "recall_hidden_hardship_ci": [None, None]}
    import mlflow

    scores = {k: result.test_scores[k] for k in ("model", "rules_fitted") if k in result.test_scores}
    figures = hardship_figures(result.test_frame, scores, truth, int(result.config["horizon_weeks"]),
                               capacity=float(result.config["capacity"]),
                               replicates=int(result.config["bootstrap"]["replicates"]),
                               seed=int(result.config["model"]["random_state"]))
    client = mlflow.MlflowClient()
    if figures["recall_hidden_hardship"] is not None:
        client.log_metric(run_id, "recall_hidden_hardship", figures["recall_hidden_hardship"])
    client.log_dict(run_id, figures, "hidden_hardship.json")
    return {"recall_hidden_hardship": figures["recall_hidden_hardship"],
            "recall_hidden_hardship_ci": figures["recall_hidden_hardship_ci"], "hidden_hardship": figures}
