"""The figures a county training run reports: the headline (the pooled normal backtest years the
gates judge, the test part's own figures beside them), the protection slices on the pooled rows,
and `fanpin train --json`."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from models import metrics as mt
from training import evaluate as ev
from training.dataset import LABEL
from training.feature_value import feature_value_json
from training.rolling import Backtest, two_way_weights
from training.uncertainty import interval


def _with_intervals(slices: pd.DataFrame, cis: dict[str, list]) -> pd.DataFrame:
    keys = slices["slice"].astype(str) + "=" + slices["value"].astype(str)
    slices["model_recall_at_5pct_low"] = [cis.get(k, [None, None])[0] for k in keys]
    slices["model_recall_at_5pct_high"] = [cis.get(k, [None, None])[1] for k in keys]
    return slices


TEST_PART_KEYS = ("auc", "recall_at_5pct", "ece_relative", "top5_observed_expected", "recall_ratio_vs_best_rules",
                  "recall_ratio_low", "recall_ratio_high", "test_entrants")


def backtest_slices(backtest: Backtest, replicates: int, seed: int) -> pd.DataFrame:
    """The protection slices on the pooled normal backtest rows (county-wide lists; shock
    township-years left out), with the model's slice recall intervals clustered by household and
    township-year, as the pooled figures' (a township's slice is three township-years: its
    interval must say how far another year may fall, not only another draw of households)."""
    frame, normal = backtest.frame, backtest.frame["normal"].to_numpy()
    extra = {("no_criterion", "true"): frame["no_criterion"].to_numpy(dtype=bool)} if "no_criterion" in frame else {}
    masks = {k: m & normal for k, m in ev.slice_masks(frame, extra).items() if (m & normal).any()}
    names = [n for n in ("model", "rules", "rules_fitted") if n in backtest.scores]
    scores = {n: backtest.scores[n] for n in names}
    y = frame[LABEL].to_numpy().astype(bool)
    groups = frame["cutoff"].to_numpy()
    entrants = np.flatnonzero(y & normal)
    hit = mt.top_share(scores["model"], groups, 0.05)[entrants]
    in_slice = {f"{c}={v}": m[entrants] for (c, v), m in masks.items()}
    draws: dict[str, list[float]] = {k: [] for k in in_slice}
    for w in two_way_weights(frame["household_id"].to_numpy()[entrants],
                             frame["township_year"].to_numpy()[entrants], replicates, seed):
        for key, m in in_slice.items():
            total = (w * m).sum()
            draws[key].append((w * m * hit).sum() / total if total else float("nan"))
    cis = {k: interval(v) for k, v in draws.items()}
    return _with_intervals(ev.slice_table(frame, y.astype(int), scores, groups, masks), cis)


def pooled_headline(backtest: Backtest) -> dict[str, Any]:
    """The headline figures the gates judge: the pooled normal backtest years (the test part's own
    figures stay under ``test_part_*``)."""
    m, ci = backtest.pooled["model"], backtest.intervals
    strongest = backtest.strongest
    best = backtest.pooled[strongest]["recall_at_5pct"] if strongest else float("nan")
    return {
        "auc": m["auc"], "recall_at_5pct": m["recall_at_5pct"], "precision_at_5pct": m["precision_at_5pct"],
        "ece_relative": m["ece_relative"], "ece": m["ece"], "top5_observed_expected": m["top5_observed_expected"],
        "observed_expected": m["observed_expected"], "test_entrants": m["entrants"], "test_base_rate": m["base_rate"],
        "auc_low": ci["model"]["auc"][0], "auc_high": ci["model"]["auc"][1],
        "recall_at_5pct_low": ci["model"]["recall_at_5pct"][0], "recall_at_5pct_high": ci["model"]["recall_at_5pct"][1],
        "top5_observed_expected_low": ci["model"]["top5_observed_expected"][0],
        "top5_observed_expected_high": ci["model"]["top5_observed_expected"][1],
        "recall_ratio_vs_best_rules": m["recall_at_5pct"] / best if best else None,
        "recall_ratio_low": ci["recall_ratio_vs_strongest"][0], "recall_ratio_high": ci["recall_ratio_vs_strongest"][1],
        "strongest_baseline_recall_at_5pct": best, "backtest_years_count": len(backtest.years),
        "shock_township_years_count": len(backtest.shocks),
    }


def headline_metrics(scorers: dict[str, dict[str, float]], intervals: dict[str, Any], oracle_info: dict[str, Any],
                     lead: dict[str, dict[str, float]]) -> dict[str, Any]:
    """The flat figures logged as MLflow metrics, gated and shown (intervals as ``*_low/_high``)."""
    m, r, rf, lg = scorers["model"], scorers["rules"], scorers["rules_fitted"], scorers["logistic"]
    best_recall = max(r["recall_at_5pct"], rf["recall_at_5pct"])
    out: dict[str, Any] = {
        **{k: m[k] for k in ("auc", "pr_auc", "brier", "ece", "ece_relative", "recall_at_5pct", "precision_at_5pct",
                             "recall_at_10pct", "precision_at_10pct", "observed_expected",
                             "top5_observed_expected", "top10_observed_expected")},
        "rules_auc": r["auc"], "rules_pr_auc": r["pr_auc"], "rules_recall_at_5pct": r["recall_at_5pct"],
        "rules_recall_at_10pct": r["recall_at_10pct"], "rules_precision_at_5pct": r["precision_at_5pct"],
        "rules_fitted_auc": rf["auc"], "rules_fitted_pr_auc": rf["pr_auc"],
        "rules_fitted_recall_at_5pct": rf["recall_at_5pct"], "rules_fitted_recall_at_10pct": rf["recall_at_10pct"],
        "logistic_auc": lg["auc"], "logistic_pr_auc": lg["pr_auc"], "logistic_brier": lg["brier"],
        "logistic_ece": lg["ece"], "logistic_recall_at_5pct": lg["recall_at_5pct"],
        "test_base_rate": m["base_rate"], "test_mean_predicted": m["mean_predicted"], "test_entrants": m["entrants"],
        "oracle_auc": oracle_info["oracle_auc"],
        "model_auc_on_oracle_rows": oracle_info["model_auc_on_oracle_rows"],
        "headroom_share": oracle_info.get("headroom_share"),
        "recall_headroom_share": oracle_info.get("recall_headroom_share"),
        "oracle_recall_at_5pct": oracle_info.get("oracle_recall_at_5pct_on_oracle_rows"),
        "median_lead_weeks": lead["model"]["median_lead_weeks"],
        "median_lead_weeks_all": lead["model"]["median_lead_weeks_all"],
        "share_warned": lead["model"]["share_warned"],
        "share_lead_4w": lead["model"]["share_lead_4w"],
        "share_lead_12w": lead["model"]["share_lead_12w"],
        "list_coverage_52w": lead["model"]["list_coverage_52w"],
        "random_list_lead_share": lead["random_list"]["share_warned"],
        "random_list_median_lead_weeks": lead["random_list"]["median_lead_weeks"],
        "rules_median_lead_weeks": lead["rules"]["median_lead_weeks"],
        "rules_share_warned": lead["rules"]["share_warned"],
        "rules_share_lead_4w": lead["rules"]["share_lead_4w"],
        "rules_share_lead_12w": lead["rules"]["share_lead_12w"],
        "rules_fitted_share_warned": lead["rules_fitted"]["share_warned"],
        "recall_ratio_vs_rules": m["recall_at_5pct"] / r["recall_at_5pct"] if r["recall_at_5pct"] else None,
        "recall_ratio_vs_best_rules": m["recall_at_5pct"] / best_recall if best_recall else None,
    }
    for key in ("auc", "pr_auc", "recall_at_5pct", "recall_at_10pct"):
        out[f"{key}_low"], out[f"{key}_high"] = intervals["model"][key]
        out[f"rules_{key}_low"], out[f"rules_{key}_high"] = intervals["rules"][key]
        out[f"rules_fitted_{key}_low"], out[f"rules_fitted_{key}_high"] = intervals["rules_fitted"][key]
    out["recall_ratio_low"], out["recall_ratio_high"] = intervals["recall_ratio_ci"]
    return out


def _ci(metrics: dict[str, Any], key: str) -> list[float | None]:
    return [metrics.get(f"{key}_low"), metrics.get(f"{key}_high")]


def backtest_json(result: Any) -> dict[str, Any]:  # a training.train.TrainingResult
    """The rolling-origin backtest, the calibrator, the served model's gate, every baseline and the
    oracle's entrants, for `fanpin train --json`."""
    bt = result.backtest
    if bt is None:
        return {}
    year_keys = ("year", "test_first", "test_last", "train_last", "rows", "entrants", "base_rate", "auc",
                 "recall_at_5pct", "top5_observed_expected", "observed_expected", "ece_relative", "shock_townships",
                 "inside_pooled_interval", "calibrator", "with_shocks", "baselines_recall_at_5pct")
    holdout = result.holdout or {}
    return {
        "backtest_years": [{k: y.get(k) for k in year_keys} for y in bt.years],
        "backtest_pooled": {**bt.pooled["model"], "intervals": bt.intervals["model"],
                            "clusters": bt.intervals["clusters"]},
        "shock_township_years": bt.shocks.to_dict(orient="records"),
        "calibrator": result.served.get("served_calibrator"),
        "calibrator_by_year": {c["year"]: c["chosen"] for c in bt.calibrators},
        "calibrator_candidates": bt.calibrators[0]["candidates"] if bt.calibrators else [],
        "served_gate": {"passed": bool(holdout.get("passed", True)), "judged": holdout.get("judged"),
                        "reasons": holdout.get("reasons", []), "cutoffs": holdout.get("cutoffs"),
                        "model": holdout.get("model"), "strongest": holdout.get("strongest"),
                        "baselines_recall_at_5pct": holdout.get("baselines_recall_at_5pct"),
                        "shock_townships": holdout.get("shock_townships"), "note": holdout.get("note")},
        "baselines": {n: {"recall_at_5pct": f["recall_at_5pct"], "auc": f["auc"],
                          "recall_at_5pct_ci": bt.intervals.get(n, {}).get("recall_at_5pct")}
                      for n, f in bt.pooled.items() if n != "model"},
        "strongest_baseline": bt.strongest,
        "oracle_entrants": result.oracle.get("oracle_positives", 0),
        "oracle_rows": result.oracle.get("oracle_rows", 0),
        "recall_headroom_interval": result.oracle.get("recall_headroom_interval"),
        "served_list_recall": (result.served_list.get("model") or {}).get("list_recall"),
        "served_list": result.served_list,
        "test_part": {k: result.metrics.get(f"test_part_{k}") for k in TEST_PART_KEYS},
    }


def county_json(result: Any, logged: dict[str, Any], model_name: str, started: float) -> dict[str, Any]:
    """`fanpin train --json` for a county folder (``result``: a ``training.train.TrainingResult``,
    typed Any because importing it here would make an import circle): the headline figures with intervals, both
    baselines, the served windows, calibration and slices."""
    m = result.metrics
    keys = ("auc", "pr_auc", "brier", "ece", "ece_relative", "recall_at_5pct", "recall_at_10pct",
            "rules_auc", "rules_recall_at_5pct", "rules_fitted_auc", "rules_fitted_recall_at_5pct",
            "recall_ratio_vs_rules", "recall_ratio_vs_best_rules", "logistic_auc", "oracle_auc",
            "model_auc_on_oracle_rows", "headroom_share", "recall_headroom_share", "oracle_recall_at_5pct",
            "median_lead_weeks", "share_warned", "share_lead_4w", "share_lead_12w", "rules_median_lead_weeks",
            "rules_share_lead_12w", "list_coverage_52w", "random_list_lead_share", "observed_expected",
            "top5_observed_expected", "top10_observed_expected")
    return {
        "run_id": logged["run_id"],
        "model_name": model_name,
        "model_version": logged["version"],
        "alias": logged["alias"],
        "alias_reason": logged["reason"],
        **{k: m.get(k) for k in keys},
        "auc_ci": _ci(m, "auc"), "pr_auc_ci": _ci(m, "pr_auc"), "recall_at_5pct_ci": _ci(m, "recall_at_5pct"),
        "recall_at_10pct_ci": _ci(m, "recall_at_10pct"), "recall_ratio_ci": _ci(m, "recall_ratio"),
        "served_train_first": result.served["served_train_first"],
        "served_train_last": result.served["served_train_last"],
        "served_fit_last": result.served["served_fit_last"],
        "calibration": result.calibration.to_dict(orient="records"),
        "slices": ev.slice_summary(result.slices),
        "bootstrap_replicates": result.intervals.get("replicates"),
        "train_rows": result.counts["train_rows"], "test_rows": result.counts["test_rows"],
        "split": result.split.as_params(),
        **backtest_json(result),
        "seconds": round(time.perf_counter() - started, 1),
        **feature_value_json(result.feature_value),
    }
