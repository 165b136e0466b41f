"""Training orchestration: rows -> split -> tuning -> fit -> evaluation against the baselines ->
refit of the evaluated procedure on all matured cutoffs (the model that is served).

The time split evaluates the *procedure* (settings chosen on the calibration part, trees fit on the
oldest cutoffs, figures on the newest matured ones). The model registered and served is the same
procedure refit on every matured cutoff and calibrated on the newest matured window, so a county
that retrains each quarter serves a model that has seen last year's outcomes; the backtest figures
are logged with it as the procedure's expected performance.

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

from features.frame_cost import frame_cost
from features.frame_schema import REFERENCE_CONTEXT
from features.household_frame import FRAME_COLUMNS
from features.policy import Policy
from features.progress import reporter
from features.transformer import CATEGORICAL_FEATURES, MODEL_FEATURES
from models.pipeline import DEFAULT_MONOTONE, RiskPipeline
from models.sanity import check_probabilities
from training import evaluate as ev
from training.backtests import lead_time_backtest, oracle_comparison
from training.baselines import baseline_scorers, no_criterion, rules_score
from training.dataset import LABEL, WEEK, build_training_rows, data_end
from training.feature_value import feature_value
from training.feature_value import settings as value_settings
from training.headline import TEST_PART_KEYS, backtest_slices, county_json, headline_metrics, pooled_headline
from training.hidden_hardship import hidden_hardship_json
from training.rolling import Backtest, backtest_splits, outcome_window, run_backtest, year_label
from training.served_check import holdout_check
from training.served_list import served_list_figures
from training.shock_backtests import for_training as shock_backtests_for
from training.shock_backtests import shock_backtests_json
from training.shocks import shock_township_years
from training.split import TimeSplit, configured_split, served_split
from training.staleness import staleness_curve
from training.tuning import random_search
from training.uncertainty import bootstrap

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
    # The served refit's windows (served_train_first/_last, served_fit_last, ...); empty for tables.
    served: dict[str, Any] = field(default_factory=dict)
    # Features without measurable signal and the frame's cost per concept (training.feature_value,
    # features.frame_cost).
    feature_value: dict[str, Any] = field(default_factory=dict)
    # Household-clustered bootstrap intervals (training.uncertainty.bootstrap).
    intervals: dict[str, Any] = field(default_factory=dict)
    # Observed/expected overall, per test cutoff, top 5% and top 10% (evaluate.calibration_table).
    calibration: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Ranking quality per matured cutoff against the trees' age, and the age limit it implies
    # (training.staleness); empty for tables.
    staleness: dict[str, Any] = field(default_factory=dict)
    # Rolling-origin backtest of the whole procedure (training.rolling); None for tables.
    backtest: Backtest | None = None
    # The served model on the newest matured quarter it never saw (training.served_check).
    holdout: dict[str, Any] = field(default_factory=dict)
    holdout_frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    # The weekly list rule (criteria + township capacity) on the pooled normal rows (training.served_list).
    served_list: dict[str, Any] = field(default_factory=dict)
    shock_backtests: list[dict[str, Any]] = field(default_factory=list)  # training.shock_backtests


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


def _parts(rows: pd.DataFrame, *parts: tuple[pd.Timestamp, ...]) -> list[pd.DataFrame]:
    return [rows.loc[rows["cutoff"].isin(list(p))].reset_index(drop=True) for p in parts]


def fit_and_evaluate(
    tables: dict[str, pd.DataFrame],
    policy: Policy,
    config: dict[str, Any],
    *,
    oracle: pd.DataFrame | None = None,
    progress: Progress | None = None,
) -> TrainingResult:
    """Build rows, split by time, tune, fit, evaluate the model and the baselines with intervals,
    then refit the procedure on all matured cutoffs (the served model).

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
    cutoffs, split = configured_split(tables, config)
    sp = config["split"]
    served_train, served_calib, served_holdout = served_split(
        cutoffs, horizon_weeks=horizon, calibrate_weeks=int(sp["calibrate_weeks"]), gap_weeks=int(sp["gap_weeks"]),
        holdout_weeks=int(config.get("backtest", {}).get("served_holdout_weeks", 13)))
    splits = backtest_splits(cutoffs, config)

    workers = int(config.get("workers", 1))

    def rows_at(cutoffs, stage: str) -> pd.DataFrame:
        return build_training_rows(tables, policy, cutoffs, horizon_weeks=horizon, workers=workers,
                                   progress=lambda d, t: progress(stage, d, t))

    # Every cutoff any part needs is built once: the origins of the backtest, the served refit and
    # its held-out quarter reuse the same point-in-time frames.
    needed = set(served_train) | set(served_calib) | set(served_holdout)
    for s_ in splits:
        needed |= set(s_.train) | set(s_.calibrate) | set(s_.test)
    rows = rows_at(sorted(needed), "training rows")
    train, calib, test = _parts(rows, split.train, split.calibrate, split.test)
    clock["rows"] = time.perf_counter()
    y_train, y_calib, y_test = (d[LABEL].to_numpy() for d in (train, calib, test))
    for name, y in (("train", y_train), ("calibrate", y_calib), ("test", y_test)):
        if y.sum() == 0 or y.sum() == len(y):
            raise ValueError(f"the {name} part has only one class: cannot train or evaluate")

    model_cfg = config["model"]
    seed = int(model_cfg["random_state"])
    tcfg = config["tuning"]
    monotone = DEFAULT_MONOTONE if model_cfg.get("monotone", True) else {}
    best, trials = random_search(
        train, y_train, calib, y_calib, base=dict(model_cfg["lgbm"]), space=tcfg.get("space", {}),
        trials=int(tcfg["trials"]), seed=int(tcfg["seed"]), sample_rows=int(tcfg["sample_rows"]), random_state=seed,
        monotone=monotone, progress=lambda d, t: progress("tuning", d, t),
    )
    clock["tuning"] = time.perf_counter()

    def procedure(fit_rows: pd.DataFrame, calib_rows: pd.DataFrame) -> RiskPipeline:
        return RiskPipeline(lgbm_params=best, calibration=model_cfg["calibration"], random_state=seed,
                            monotone=monotone).fit(fit_rows, fit_rows[LABEL].to_numpy(), calib_rows,
                                                   calib_rows[LABEL].to_numpy())

    progress("fitting", 0, 1)
    evaluated = procedure(train, calib)
    progress("fitting", 1, 1)
    clock["fit"] = time.perf_counter()

    progress("evaluating", 0, 1)
    lcfg = config["logistic"]

    baselines = baseline_scorers(tables, policy, C=float(lcfg["C"]), max_rows=int(lcfg["max_train_rows"]), seed=seed)
    origin0 = baselines(train, calib)
    fitted_rules, logistic = origin0.pop("_objects")
    clock["logistic"] = time.perf_counter()

    def backtest_fit(fit_rows: pd.DataFrame, calib_rows: pd.DataFrame) -> RiskPipeline:
        # Origin 0 is the evaluated model itself: no second fit.
        if set(fit_rows["cutoff"].unique()) == set(split.train):
            return evaluated
        return procedure(fit_rows, calib_rows)

    def backtest_baselines(fit_rows: pd.DataFrame, calib_rows: pd.DataFrame) -> dict[str, Callable]:
        if set(fit_rows["cutoff"].unique()) == set(split.train):
            return origin0
        fns = baselines(fit_rows, calib_rows)
        fns.pop("_objects")
        return fns

    bcfg = config.get("backtest", {})
    windows = {year_label(s_): outcome_window(s_) for s_ in splits}
    holdout_window = (min(served_holdout), max(served_holdout) + horizon * WEEK) if served_holdout else None
    if holdout_window:
        windows["served_holdout"] = holdout_window
    shocks = shock_township_years(tables, windows, per_100=float(bcfg.get("shock_per_100", 20)),
                                  weeks=int(bcfg.get("shock_weeks", 13)))
    backtest = run_backtest(rows, splits, backtest_fit, backtest_baselines,
                            shocks.loc[shocks["year"] != "served_holdout"].reset_index(drop=True),
                            flags=lambda f: {"no_criterion": (none := no_criterion(f, policy)), "criterion": ~none},
                            capacity=float(config["capacity"]), replicates=int(config["bootstrap"]["replicates"]),
                            seed=seed, progress=progress)
    shock_bt = shock_backtests_for(tables, policy, rows, cutoffs, procedure, config, data_end=end, workers=workers)
    served_list = served_list_figures(backtest.frame, {"model": backtest.scores["model"],
                                                       "rules": backtest.scores["rules"]}, config)
    clock["backtest"] = time.perf_counter()

    scorer_fns = {
        "model": lambda f: evaluated.predict_proba(f)[:, 1],
        "rules": lambda f: rules_score(f, policy),
        "rules_fitted": lambda f: fitted_rules.predict_proba(f)[:, 1],
    }
    groups = test["cutoff"].to_numpy()
    scores = {**{n: f(test) for n, f in scorer_fns.items()}, "logistic": logistic.predict_proba(test)[:, 1]}
    check_probabilities(scores["model"], test, columns=MODEL_FEATURES, where="training: the evaluated model's test scores")
    scorers = {name: ev.score_metrics(y_test, s, groups, probability=name != "rules") for name, s in scores.items()}
    scorers["model_calibration_part"] = ev.score_metrics(
        y_calib, evaluated.predict_proba(calib)[:, 1], calib["cutoff"].to_numpy(), probability=True)
    # The test part's own intervals (slices are judged on the pooled normal backtest years below).
    intervals = bootstrap(y_test, {n: scores[n] for n in scorer_fns}, groups, test["household_id"].to_numpy(),
                          replicates=int(config["bootstrap"]["replicates"]), seed=seed)
    calibration = ev.calibration_table(y_test, scores["model"], groups)
    oracle_info = oracle_comparison(tables, policy, scorer_fns, oracle, split, horizon, end, workers,
                                    float(config["capacity"]))
    clock["evaluate"] = time.perf_counter()
    progress("evaluating", 1, 1)
    lead, n_lists = lead_time_backtest(tables, policy, scorer_fns, split, end, config, progress)
    clock["lead"] = time.perf_counter()
    value = {**feature_value(evaluated, calib, y_calib, seed=seed, **value_settings(config)),
             "frame_cost": frame_cost(tables, max(split.test), policy)}
    clock["value"] = time.perf_counter()

    fit_rows, served_calib_rows = _parts(rows, served_train, served_calib)
    progress("refitting on every matured cutoff", 0, 1)
    served = procedure(fit_rows, served_calib_rows)
    progress("refitting on every matured cutoff", 1, 1)
    clock["refit"] = time.perf_counter()
    served_info = {
        "served_train_first": str(min(served_train).date()), "served_train_last": str(max(served_calib).date()),
        "served_fit_last": str(max(served_train).date()), "served_calibrate_first": str(min(served_calib).date()),
        "served_calibrate_last": str(max(served_calib).date()), "served_fit_rows": len(fit_rows),
        "served_calibrate_rows": len(served_calib_rows), "data_end": str(end.date()),
        "served_calibrator": getattr(served, "calibration_", model_cfg["calibration"]),
        **({"served_holdout_first": str(min(served_holdout).date()),
            "served_holdout_last": str(max(served_holdout).date())} if served_holdout else {}),
    }
    holdout_rows = _parts(rows, served_holdout)[0] if served_holdout else pd.DataFrame()
    served_baselines = baselines(fit_rows, served_calib_rows) if served_holdout else {}
    served_baselines.pop("_objects", None)
    holdout = holdout_check(served, holdout_rows, served_baselines,
                            shocks.loc[shocks["year"] == "served_holdout", "township"].tolist(),
                            capacity=float(config["capacity"]), gates=config["gates"])
    pooled_slices = backtest_slices(backtest, int(config["bootstrap"]["replicates"]), seed)

    staleness = staleness_curve(evaluated, rows, trees_last_cutoff=max(split.train), horizon_weeks=horizon,
                                capacity=float(config["capacity"]), served_fit_last=max(served_train), data_end=end,
                                config=config.get("staleness"), seed=seed)
    rng = np.random.default_rng(seed + 1)
    shap_take = np.sort(rng.choice(len(test), size=min(int(config["shap_rows"]), len(test)), replace=False))
    importance = importance_table(served, test.iloc[shap_take])
    # The drift reference is the served model's newest window (its calibration rows): comparing a
    # week with data three years older would flag every secular trend as drift.
    ref_take = np.sort(rng.choice(len(served_calib_rows), size=min(int(config["reference_rows"]),
                                                                    len(served_calib_rows)), replace=False))
    columns = list(dict.fromkeys(REFERENCE_CONTEXT + list(MODEL_FEATURES)))
    reference = served_calib_rows.iloc[ref_take][columns].reset_index(drop=True)
    reference["prediction"] = served.predict_proba(reference)[:, 1]
    check_probabilities(reference["prediction"], reference, columns=MODEL_FEATURES,
                        where="training: the served model's reference scores")
    clock["end"] = time.perf_counter()

    test_part = headline_metrics(scorers, intervals, oracle_info, lead)
    metrics = {**test_part, **{f"test_part_{k}": test_part[k] for k in TEST_PART_KEYS}, **pooled_headline(backtest)}
    seconds = {
        "rows": clock["rows"] - clock["start"], "tuning": clock["tuning"] - clock["rows"],
        "fit": clock["fit"] - clock["tuning"], "baselines": clock["logistic"] - clock["fit"],
        "evaluate": clock["evaluate"] - clock["backtest"], "lead_time": clock["lead"] - clock["evaluate"],
        "feature_value": clock["value"] - clock["lead"], "refit": clock["refit"] - clock["value"], "artifacts": clock["end"] - clock["refit"],
        "backtest": clock["backtest"] - clock["logistic"], "total": clock["end"] - clock["start"],
    }
    counts = {"train_rows": len(train), "calibrate_rows": len(calib), "test_rows": len(test),
              "train_positives": int(y_train.sum()), "calibrate_positives": int(y_calib.sum()),
              "test_positives": int(y_test.sum()), "test_households": intervals["households"],
              "watch_lists": n_lists, "lead_entrants": lead["model"]["entrants"],
              "oracle_rows": oracle_info["oracle_rows"], "served_fit_rows": len(fit_rows),
              "served_calibrate_rows": len(served_calib_rows), "backtest_rows": len(backtest.frame),
              "served_holdout_rows": len(holdout_rows)}
    return TrainingResult(
        model=served, config=config, split=split, metrics=metrics, scorers=scorers, slices=pooled_slices, lead=lead,
        oracle=oracle_info, tuning=trials, importance=importance, reference=reference, test_frame=test,
        test_scores=scores, best_params=best, counts=counts, seconds=seconds, served=served_info,
        intervals=intervals, calibration=calibration, feature_value=value, staleness=staleness,
        backtest=backtest, holdout=holdout, holdout_frame=holdout_rows, served_list=served_list,
        shock_backtests=shock_bt,
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
    from features.point_in_time import BASIS_VALIDITY, basis
    from features.policy import load_policy
    from training import county_data, tracking

    started = time.perf_counter()
    policy = policy or load_policy()
    tables, notes = county_data.read_history(data_dir)
    oracle = county_data.read_oracle(data_dir)
    result = fit_and_evaluate(tables, policy, config, oracle=oracle, progress=progress)
    result.notes.extend(notes)
    # without 入库时间 a back-dated row counts as known from the date it carries: say so
    point_in_time = basis(tables)
    if point_in_time == BASIS_VALIDITY:
        result.notes.append("point-in-time basis: validity dates, the data has no recording dates "
                            "(入库时间); back-dated rows may leak into the features")
    log.info("logging the run to MLflow and registering %s", model_name)
    logged = tracking.log_training(
        result, experiment=experiment, model_name=model_name, policy=policy,
        data_fingerprint=county_data.fingerprint(data_dir), data_source=str(Path(data_dir).resolve()),
        user=user, started=started, extra_tags={"point_in_time_basis": point_in_time},
    )
    return {**county_json(result, logged, model_name, started), "point_in_time_basis": point_in_time,
            **hidden_hardship_json(result, county_data.read_hardship(data_dir), logged["run_id"]),
            **shock_backtests_json(result.shock_backtests, logged["run_id"])}
