"""Is this week's data still what the model learned from? The weekly drift check.

One call compares the week's household frame with the champion's reference sample (PII-free
training-frame rows with the model's ``prediction``):

- county-wide, per model feature, with Evidently 0.7 (``ValueDrift`` per column with an explicit
  method for its type and the sample size: normed Wasserstein distance for numbers and
  Jensen-Shannon distance for categories when both sides have at least 1,000 rows, else the
  Kolmogorov-Smirnov and chi-square tests), the share of drifted features (counted from those
  tests' statuses) and the drift of the predicted risk; the verdict read is each test's status,
  never the raw score;
- beside it, the PSI of every feature (``monitoring.psi``; under 0.1 stable, 0.1-0.25 watch,
  over 0.25 act);
- per township, the same PSI and medians against the reference rows of that township, because a
  change confined to one township is a data-entry change or a local shock, not the county moving;
- data quality: missing shares, values outside the reference's range, new category values (a new
  township included), columns that became constant;
- the raw fields behind the features (latest income surveys and members of the week's export):
  per-capita income, the elderly share and the illness shares per township against the reference.

Large weeks are compared on a fixed-size sample stratified by township (bound in
``monitoring.sample``); the per-township checks always use every row. ``monitoring.alerts`` turns
the result into plain-language alerts.

The parts live beside it: ``drift_settings`` (feature groups, thresholds), ``evidently_report``,
``quality``, ``township_checks``, ``raw_checks``, ``drift_result``; this module puts them together.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.household_frame import FRAME_COLUMNS
from features.json_safe import records
from features.model_features import MODEL_FEATURES
from monitoring import sample as sampling
from monitoring.alerts import build_alerts
from monitoring.columns import as_numbers, finite_median, is_categorical
from monitoring.drift_result import DriftResult
from monitoring.drift_settings import PREDICTION, Thresholds, as_thresholds
from monitoring.evidently_report import column_verdicts, evidently_frame, render_report, report_columns, report_samples
from monitoring.psi import psi, psi_band
from monitoring.quality import quality_table
from monitoring.raw_checks import raw_checks, revision_checks
from monitoring.township_checks import localisation, shock_checks, subgroup_checks, township_table, unit_checks


def check_week(
    current_frame: pd.DataFrame,
    reference: pd.DataFrame,
    *,
    week: str,
    predictions=None,
    reference_predictions=None,
    raw_tables: dict[str, pd.DataFrame] | None = None,
    previous_tables: dict[str, pd.DataFrame] | None = None,
    thresholds: Thresholds | dict[str, Any] | None = None,
    report_path: str | Path | None = None,
    render: bool = True,
) -> DriftResult:
    """Compare one week's household frame with the reference and say what changed and where.

    Args:
        current_frame: this week's household frame (``build_household_frame`` at the week's
            Sunday), every household of the week.
        reference: the champion's reference sample (frame rows; ``township`` for the per-township
            checks; ``prediction`` when the model scored it).
        week: ISO week label, e.g. ``2025-W49``.
        predictions: the model's probabilities for ``current_frame`` rows (same order), if scored.
        reference_predictions: probabilities for the reference rows (default: its ``prediction``).
        raw_tables: the week's export tables (households, members, income_surveys) for the raw
            income, age and health checks.
        previous_tables: the registry before this export (the history), to see which income
            records the export rewrote since last week.
        thresholds: a ``Thresholds`` or a dict overriding some of its fields.
        report_path: where to save the full Evidently HTML report (when None, the HTML string
            is returned in ``report_html`` instead).
        render: build the Evidently report now; the weekly job says False and keeps
            ``report_samples`` instead, so the report is rendered when someone opens it.

    Returns:
        A ``DriftResult``; its alerts come from ``monitoring.alerts.build_alerts``.
    """
    th = as_thresholds(thresholds)
    cur = current_frame.reset_index(drop=True)
    ref = reference.reset_index(drop=True)
    # A reference assembled as context + features can name a column twice (category is both).
    ref = ref.loc[:, ~ref.columns.duplicated()]
    cur = cur.loc[:, ~cur.columns.duplicated()]
    if reference_predictions is None and PREDICTION in ref.columns:
        reference_predictions = ref[PREDICTION].to_numpy(dtype="float64")
    pred_cur = None if predictions is None else np.asarray(predictions, dtype="float64").reshape(-1)
    pred_ref = None if reference_predictions is None else np.asarray(reference_predictions, dtype="float64")
    if pred_cur is not None and len(pred_cur) != len(cur):
        raise ValueError(f"{len(pred_cur)} predictions for {len(cur)} households")
    if pred_cur is None:
        pred_ref = None  # a prediction drift needs both sides

    features = [f for f in MODEL_FEATURES if f in cur.columns and f in ref.columns]
    categorical = [f for f in features if is_categorical(f, ref[f])]
    numeric = [f for f in features if f not in categorical]

    # Evidently on a township-stratified sample of each side (bound in monitoring.sample).
    cur_s = sampling.stratified_sample(cur, th.sample_size, seed=th.seed)
    ref_s = sampling.stratified_sample(ref, th.reference_size, seed=th.seed + 1)
    # Prediction drift needs both sides: a reference without predictions compares features only.
    ev_cur = evidently_frame(cur_s, numeric, categorical,
                              None if pred_cur is None or pred_ref is None else pred_cur[cur_s.index.to_numpy()])
    ev_ref = evidently_frame(ref_s, numeric, categorical,
                              None if pred_ref is None else pred_ref[ref_s.index.to_numpy()])
    cols = report_columns(ev_ref, ev_cur, numeric, categorical, th)
    verdicts, count = column_verdicts(ev_ref, ev_cur, cols)
    samples = report_samples(ev_ref, ev_cur, cols)
    saved = render_report(samples, report_path) if render else None

    quality = quality_table(ref, cur, features, th)
    town = township_table(ref, cur, features, pred_ref, pred_cur, th) if "township" in cur.columns else pd.DataFrame()
    local = localisation(town, th)

    rows = []
    for name in features:
        v = verdicts.get(name, {})
        value = psi(ref[name], cur[name])
        label = FRAME_COLUMNS.get(name)
        row = {"feature": name, "zh": label.zh if label else name, "en": label.en if label else name,
               "kind": "categorical" if name in categorical else "numeric",
               "method": v.get("method"), "score": v.get("score"), "threshold": v.get("threshold"),
               "drifted": bool(v.get("drifted", False)), "psi": value, "psi_band": psi_band(value)}
        if name in numeric:
            row["median_current"] = finite_median(as_numbers(cur[name]))
            row["median_reference"] = finite_median(as_numbers(ref[name]))
        rows.append(row)
    feature_results = pd.DataFrame(rows).merge(quality, on="feature", how="left")
    if not local.empty:
        feature_results = feature_results.merge(local, on="feature", how="left")

    prediction_drift = None
    if pred_cur is not None and pred_ref is not None:
        v = verdicts.get(PREDICTION, {})
        value = psi(pred_ref, pred_cur)
        prediction_drift = {"method": v.get("method"), "score": v.get("score"), "threshold": v.get("threshold"),
                            "drifted": bool(v.get("drifted", False)), "psi": value, "psi_band": psi_band(value),
                            "mean_current": float(np.mean(pred_cur)), "mean_reference": float(np.mean(pred_ref))}

    cutoff = pd.Timestamp(cur["cutoff"].iloc[0]) if "cutoff" in cur.columns and len(cur) else None
    raw = raw_checks(raw_tables, ref, cutoff)
    new_towns = []
    if "township" in cur.columns and "township" in ref.columns:
        seen = set(ref["township"].astype(str))
        counts = cur["township"].astype(str).value_counts()
        new_towns = [{"township": t, "households": int(n)} for t, n in counts.items() if t not in seen]
    revisions = revision_checks(raw_tables, previous_tables, cur)
    checks = {
        "unit_errors": unit_checks(town, raw, th),
        "local_shocks": shock_checks(ref, cur, town, th),
        "subgroups": subgroup_checks(ref, cur, th, pred_ref, pred_cur, revisions),
        "revisions": revisions,
        "new_townships": new_towns,
        "raw": None if raw is None else records(raw.reset_index()),
    }
    reference_period = None
    if "cutoff" in ref.columns and len(ref):
        reference_period = [str(pd.Timestamp(ref["cutoff"].min()).date()), str(pd.Timestamp(ref["cutoff"].max()).date())]
    drifted = feature_results.loc[feature_results["drifted"], "feature"].tolist()
    summary = {
        "week": week,
        "n_current": len(cur),
        "n_reference": len(ref),
        "n_compared": {"current": len(cur_s), "reference": len(ref_s)},
        "sample_bound": {"dkw_epsilon_95": sampling.dkw_epsilon(len(cur_s)),
                         "share_half_width_95": sampling.share_half_width(len(cur_s))},
        "methods": {"numeric": count.get("num_method"), "categorical": count.get("cat_method"),
                    "psi_bands": [th.psi_watch, th.psi_act]},
        "reference_period": reference_period,
        "n_features": len(features),
        "drifted_features": drifted,
        "n_drifted": count.get("count", len(drifted)),
        "share_drifted": count.get("share", len(drifted) / max(1, len(features))),
        "prediction_drift": prediction_drift,
        "quality": {
            "missing_rise": feature_results.loc[
                feature_results["missing_current"] - feature_results["missing_reference"] >= th.missing_rise,
                "feature"].tolist(),
            "out_of_range": feature_results.loc[
                feature_results["out_of_range_share"] >= th.out_of_range_share, "feature"].tolist(),
            "new_values": {r.feature: r.new_values for r in feature_results.itertuples() if r.new_values},
            "constant": feature_results.loc[feature_results["constant_now"], "feature"].tolist(),
        },
        "townships": sorted(cur["township"].astype(str).unique()) if "township" in cur.columns else [],
        "thresholds": asdict(th),
    }
    result = DriftResult(summary=summary, alerts=[], feature_results=feature_results,
                         township_results=town, checks=checks, report_html=saved, report_samples=samples)
    result.alerts = build_alerts(result, th)
    result.summary["alerts_by_severity"] = {
        s: sum(a["severity"] == s for a in result.alerts) for s in ("high", "medium", "low", "info")
    }
    return result
