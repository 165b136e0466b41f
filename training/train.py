"""Training orchestration: rows -> split -> tuning -> fit -> evaluation against the baselines.

``fit_and_evaluate`` is pure (tables in, a ``TrainingResult`` out); ``train_county`` adds the
I/O: reading the county folder, MLflow logging, the gates and registration (``training.tracking``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.frame_schema import REFERENCE_CONTEXT
from features.household_frame import FRAME_COLUMNS
from features.policy import Policy
from features.progress import reporter
from features.transformer import CATEGORICAL_FEATURES, MODEL_FEATURES
from models.pipeline import DEFAULT_MONOTONE, RiskPipeline
from training import evaluate as ev
from training.baselines import logistic_baseline, rules_score
from training.dataset import (
    LABEL,
    WEEK,
    build_training_rows,
    cutoff_schedule,
    data_end,
    data_start,
    iter_frames,
    label_frame,
)
from training.split import TimeSplit, time_split
from training.tuning import random_search

Progress = Callable[[str, int, int], None]
log = logging.getLogger(__name__)

# Columns kept in the reference sample: the model's inputs plus the slice attributes drift reports
# break down by. No identifier of a household or a person.


@dataclass
class TrainingResult:
    """Everything one training run produced, before it is logged."""

    model: RiskPipeline
    config: dict[str, Any]
    split: TimeSplit
    metrics: dict[str, float | None]
    scorers: dict[str, dict[str, float]]
    slices: pd.DataFrame
    lead: dict[str, dict[str, float]]
    oracle: dict[str, Any]
    tuning: list[dict[str, Any]]
    importance: pd.DataFrame
    reference: pd.DataFrame
    test_frame: pd.DataFrame
    test_scores: dict[str, np.ndarray]
    best_params: dict[str, Any]
    counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # The raw input columns the logged model's signature lists (default: the household frame's).
    input_columns: list[str] = field(default_factory=lambda: list(MODEL_FEATURES))
    target_description: str = "进入监测 / entering monitoring within 52 weeks"


def _frames(tables, policy, cutoffs, horizon, progress: Progress, stage: str, workers: int) -> pd.DataFrame:
    return build_training_rows(tables, policy, cutoffs, horizon_weeks=horizon, workers=workers,
                               progress=lambda d, t: progress(stage, d, t))


def importance_table(model: RiskPipeline, frame: pd.DataFrame) -> pd.DataFrame:
    """Global SHAP importance: mean |TreeSHAP contribution| per feature on ``frame``, with labels."""
    X = model.transform_features(frame)  # noqa: N806
    contrib = model.booster_.booster_.predict(X, pred_contrib=True)[:, :-1]
    names = model.feature_names_
    out = pd.DataFrame({"feature": names, "mean_abs_shap": np.abs(contrib).mean(axis=0)})
    out["zh"] = [FRAME_COLUMNS[n].zh if n in FRAME_COLUMNS else n for n in names]
    out["concept"] = [FRAME_COLUMNS[n].concept if n in FRAME_COLUMNS
                      else "policy_support" if n in CATEGORICAL_FEATURES else "" for n in names]
    return out.sort_values("mean_abs_shap", ascending=False, ignore_index=True)


def _oracle_comparison(
    tables, policy, model: RiskPipeline, oracle: pd.DataFrame | None, split: TimeSplit, horizon: int, end,
    workers: int = 1,
) -> dict[str, Any]:
    """Oracle AUC on its sample and the model's AUC on the same rows (out-of-sample cutoffs only).

    Rows: the oracle's households at its cutoffs that are matured, not under monitoring at the
    cutoff, and at or after the first cutoff the trees never saw a label of (the calibration
    part's start). The realised label comes from the outcomes table, as for training rows.
    """
    empty = {"oracle_auc": None, "model_auc_on_oracle_rows": None, "oracle_rows": 0, "oracle_cutoffs": []}
    if oracle is None or oracle.empty:
        return empty
    first_unseen = min(split.calibrate)
    usable = sorted(c for c in oracle["cutoff"].unique()
                    if pd.Timestamp(c) >= first_unseen and pd.Timestamp(c) + horizon * WEEK <= end)
    if not usable:
        return {**empty, "note": "no oracle cutoff is out-of-sample and matured"}
    rows = []
    for c, built in iter_frames(tables, policy, usable, workers):
        frame = label_frame(built, tables["outcomes"], c, horizon)
        sample = oracle.loc[oracle["cutoff"] == c, ["household_id", "true_risk"]]
        joined = frame.merge(sample, on="household_id", how="inner")
        rows.append(joined)
    rows = pd.concat(rows, ignore_index=True)
    y = rows[LABEL].to_numpy()
    model_p = model.predict_proba(rows)[:, 1]
    oracle_auc = ev._safe_auc(y, rows["true_risk"].to_numpy())
    model_auc = ev._safe_auc(y, model_p)
    return {
        "oracle_auc": oracle_auc,
        "model_auc_on_oracle_rows": model_auc,
        "rules_auc_on_oracle_rows": ev._safe_auc(y, rules_score(rows, policy)),
        "oracle_rows": int(len(rows)),
        "oracle_positives": int(y.sum()),
        "oracle_cutoffs": [str(pd.Timestamp(c).date()) for c in usable],
        "headroom_share": ev.headroom_share(model_auc, oracle_auc),
    }


def _lead_time_backtest(
    tables, policy, model: RiskPipeline, split: TimeSplit, end, config, progress: Progress
) -> tuple[dict[str, dict[str, float]], int]:
    """Weekly watch lists from the first test cutoff to the end of the data; entrants whose entry
    has a full lookback of lists are evaluated for both the model and the rules."""
    lt = config["lead_time"]
    step, lookback = int(lt["step_weeks"]), int(lt["lookback_weeks"])
    capacity = float(config["capacity"])
    weeks = []
    w = pd.Timestamp(end)
    while w >= min(split.test):
        weeks.append(w)
        w -= step * WEEK
    weeks = sorted(weeks)
    listed: dict[str, list[pd.DataFrame]] = {"model": [], "rules": []}
    for i, (week, frame) in enumerate(iter_frames(tables, policy, weeks, int(config.get("workers", 1)))):
        frame = frame.loc[~frame["under_monitoring"].to_numpy(dtype=bool)].reset_index(drop=True)
        scores = {"model": model.predict_proba(frame)[:, 1], "rules": rules_score(frame, policy)}
        group = np.zeros(len(frame))
        for name, s in scores.items():
            mask = ev.top_share(s, group, capacity)
            listed[name].append(pd.DataFrame({"household_id": frame.loc[mask, "household_id"].to_numpy(), "week": week}))
        progress("watch lists", i + 1, len(weeks))
    first_full = weeks[0] + lookback * WEEK
    outcomes = tables["outcomes"]
    entries = outcomes.loc[(outcomes["entry_date"] > first_full) & (outcomes["entry_date"] <= end),
                           ["household_id", "entry_date"]]
    result = {name: ev.lead_times(pd.concat(parts, ignore_index=True), entries, horizon_weeks=lookback)
              for name, parts in listed.items()}
    for r in result.values():
        r["entries_from"] = str(first_full.date())
        r["lists"] = len(weeks)
    return result, len(weeks)


def fit_and_evaluate(
    tables: dict[str, pd.DataFrame],
    policy: Policy,
    config: dict[str, Any],
    *,
    oracle: pd.DataFrame | None = None,
    progress: Progress | None = None,
) -> TrainingResult:
    """Build rows, split by time, tune, fit, and evaluate the model and the baselines.

    Args:
        tables: contract tables of the county history.
        policy: the county policy.
        config: a training configuration (``training.config.load_config``).
        oracle: the simulator's true-risk sample, when the data came from the simulator.
        progress: callback (stage, done, total), called after each report is logged.
    """
    progress = reporter(log, progress)
    clock = {"start": time.perf_counter()}
    horizon = int(config["horizon_weeks"])
    end = data_end(tables)
    cutoffs = cutoff_schedule(data_start(tables), end, step_weeks=int(config["cutoff_step_weeks"]),
                              horizon_weeks=horizon, warmup_weeks=int(config["warmup_weeks"]))
    sp = config["split"]
    split = time_split(cutoffs, horizon_weeks=horizon, test_weeks=int(sp["test_weeks"]),
                       calibrate_weeks=int(sp["calibrate_weeks"]), gap_weeks=int(sp["gap_weeks"]))

    workers = int(config.get("workers", 1))
    train = _frames(tables, policy, split.train, horizon, progress, "training rows", workers)
    calib = _frames(tables, policy, split.calibrate, horizon, progress, "calibration rows", workers)
    test = _frames(tables, policy, split.test, horizon, progress, "test rows", workers)
    clock["rows"] = time.perf_counter()
    y_train, y_calib, y_test = (d[LABEL].to_numpy() for d in (train, calib, test))
    for name, y in (("train", y_train), ("calibrate", y_calib), ("test", y_test)):
        if y.sum() == 0 or y.sum() == len(y):
            raise ValueError(f"the {name} part has only one class: cannot train or evaluate")

    model_cfg = config["model"]
    base = dict(model_cfg["lgbm"])
    tcfg = config["tuning"]
    monotone = DEFAULT_MONOTONE if model_cfg.get("monotone", True) else {}
    best, trials = random_search(
        train, y_train, calib, y_calib, base=base, space=tcfg.get("space", {}), trials=int(tcfg["trials"]),
        seed=int(tcfg["seed"]), sample_rows=int(tcfg["sample_rows"]), random_state=int(model_cfg["random_state"]),
        monotone=monotone, progress=lambda d, t: progress("tuning", d, t),
    )
    clock["tuning"] = time.perf_counter()
    progress("fitting", 0, 1)
    model = RiskPipeline(lgbm_params=best, calibration=model_cfg["calibration"],
                         random_state=int(model_cfg["random_state"]), monotone=monotone)
    model.fit(train, y_train, calib, y_calib)
    progress("fitting", 1, 1)
    clock["fit"] = time.perf_counter()

    progress("evaluating", 0, 1)
    lcfg = config["logistic"]
    rng = np.random.default_rng(int(model_cfg["random_state"]))
    take = np.sort(rng.choice(len(train), size=min(int(lcfg["max_train_rows"]), len(train)), replace=False))
    logistic = logistic_baseline(random_state=int(model_cfg["random_state"]), C=float(lcfg["C"]))
    logistic.fit(train.iloc[take], y_train[take])
    clock["logistic"] = time.perf_counter()

    groups = test["cutoff"].to_numpy()
    scores = {
        "model": model.predict_proba(test)[:, 1],
        "rules": rules_score(test, policy),
        "logistic": logistic.predict_proba(test)[:, 1],
    }
    scorers = {
        name: ev.score_metrics(y_test, s, groups, probability=name != "rules") for name, s in scores.items()
    }
    scorers["model_calibration_part"] = ev.score_metrics(
        y_calib, model.predict_proba(calib)[:, 1], calib["cutoff"].to_numpy(), probability=True)
    slices = ev.slice_table(test, y_test, scores, groups)
    oracle_info = _oracle_comparison(tables, policy, model, oracle, split, horizon, end, workers)
    clock["evaluate"] = time.perf_counter()
    progress("evaluating", 1, 1)
    lead, n_lists = _lead_time_backtest(tables, policy, model, split, end, config, progress)
    clock["lead"] = time.perf_counter()

    rng = np.random.default_rng(int(model_cfg["random_state"]) + 1)
    shap_take = np.sort(rng.choice(len(test), size=min(int(config["shap_rows"]), len(test)), replace=False))
    importance = importance_table(model, test.iloc[shap_take])
    ref_take = np.sort(rng.choice(len(train), size=min(int(config["reference_rows"]), len(train)), replace=False))
    columns = list(dict.fromkeys(REFERENCE_CONTEXT + list(MODEL_FEATURES)))
    reference = train.iloc[ref_take][columns].reset_index(drop=True)
    reference["prediction"] = model.predict_proba(reference)[:, 1]
    clock["end"] = time.perf_counter()

    m, r, lg = scorers["model"], scorers["rules"], scorers["logistic"]
    metrics: dict[str, float | None] = {
        "auc": m["auc"], "pr_auc": m["pr_auc"], "brier": m["brier"], "ece": m["ece"],
        "recall_at_5pct": m["recall_at_5pct"], "precision_at_5pct": m["precision_at_5pct"],
        "recall_at_10pct": m["recall_at_10pct"], "precision_at_10pct": m["precision_at_10pct"],
        "rules_auc": r["auc"], "rules_pr_auc": r["pr_auc"], "rules_recall_at_5pct": r["recall_at_5pct"],
        "rules_recall_at_10pct": r["recall_at_10pct"], "rules_precision_at_5pct": r["precision_at_5pct"],
        "logistic_auc": lg["auc"], "logistic_pr_auc": lg["pr_auc"], "logistic_brier": lg["brier"],
        "logistic_ece": lg["ece"], "logistic_recall_at_5pct": lg["recall_at_5pct"],
        "test_base_rate": m["base_rate"], "test_mean_predicted": m["mean_predicted"],
        "oracle_auc": oracle_info["oracle_auc"],
        "model_auc_on_oracle_rows": oracle_info["model_auc_on_oracle_rows"],
        "headroom_share": oracle_info.get("headroom_share"),
        "median_lead_weeks": lead["model"]["median_lead_weeks"],
        "median_lead_weeks_all": lead["model"]["median_lead_weeks_all"],
        "share_warned": lead["model"]["share_warned"],
        "share_lead_4w": lead["model"]["share_lead_4w"],
        "share_lead_12w": lead["model"]["share_lead_12w"],
        "rules_median_lead_weeks": lead["rules"]["median_lead_weeks"],
        "rules_share_warned": lead["rules"]["share_warned"],
        "rules_share_lead_4w": lead["rules"]["share_lead_4w"],
        "rules_share_lead_12w": lead["rules"]["share_lead_12w"],
        "recall_ratio_vs_rules": m["recall_at_5pct"] / r["recall_at_5pct"] if r["recall_at_5pct"] else None,
    }
    seconds = {
        "rows": clock["rows"] - clock["start"], "tuning": clock["tuning"] - clock["rows"],
        "fit": clock["fit"] - clock["tuning"], "logistic": clock["logistic"] - clock["fit"],
        "evaluate": clock["evaluate"] - clock["logistic"], "lead_time": clock["lead"] - clock["evaluate"],
        "artifacts": clock["end"] - clock["lead"], "total": clock["end"] - clock["start"],
    }
    counts = {"train_rows": len(train), "calibrate_rows": len(calib), "test_rows": len(test),
              "train_positives": int(y_train.sum()), "calibrate_positives": int(y_calib.sum()),
              "test_positives": int(y_test.sum()), "watch_lists": n_lists,
              "lead_entrants": lead["model"]["entrants"], "oracle_rows": oracle_info["oracle_rows"]}
    return TrainingResult(
        model=model, config=config, split=split, metrics=metrics, scorers=scorers, slices=slices, lead=lead,
        oracle=oracle_info, tuning=trials, importance=importance, reference=reference, test_frame=test,
        test_scores=scores, best_params=best, counts=counts, seconds=seconds,
    )


def train_county(
    data_dir: str | Path,
    *,
    config: dict[str, Any],
    experiment: str = "fanpin",
    model_name: str = "fanpin-risk",
    policy: Policy | None = None,
    user: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train on a county folder, log the run to MLflow, register and choose the alias.

    The tracking URI must already be set by the caller (the CLI edge). Returns the JSON result.
    """
    from features.policy import load_policy
    from training import county_data, tracking

    started = time.perf_counter()
    policy = policy or load_policy()
    tables, notes = county_data.read_history(data_dir)
    oracle = county_data.read_oracle(data_dir)
    result = fit_and_evaluate(tables, policy, config, oracle=oracle, progress=progress)
    result.notes.extend(notes)
    log.info("logging the run to MLflow and registering %s", model_name)
    logged = tracking.log_training(
        result, experiment=experiment, model_name=model_name, policy=policy,
        data_fingerprint=county_data.fingerprint(data_dir), data_source=str(Path(data_dir).resolve()),
        user=user, started=started,
    )
    m = result.metrics
    return {
        "run_id": logged["run_id"],
        "model_name": model_name,
        "model_version": logged["version"],
        "alias": logged["alias"],
        "alias_reason": logged["reason"],
        "auc": m["auc"], "pr_auc": m["pr_auc"], "brier": m["brier"], "ece": m["ece"],
        "recall_at_5pct": m["recall_at_5pct"], "recall_at_10pct": m["recall_at_10pct"],
        "rules_auc": m["rules_auc"], "rules_recall_at_5pct": m["rules_recall_at_5pct"],
        "logistic_auc": m["logistic_auc"], "oracle_auc": m["oracle_auc"],
        "model_auc_on_oracle_rows": m["model_auc_on_oracle_rows"], "headroom_share": m["headroom_share"],
        "median_lead_weeks": m["median_lead_weeks"], "share_lead_4w": m["share_lead_4w"],
        "share_lead_12w": m["share_lead_12w"], "rules_median_lead_weeks": m["rules_median_lead_weeks"],
        "rules_share_lead_12w": m["rules_share_lead_12w"],
        "train_rows": result.counts["train_rows"], "test_rows": result.counts["test_rows"],
        "split": result.split.as_params(),
        "seconds": round(time.perf_counter() - started, 1),
    }
