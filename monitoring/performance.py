"""How good were the lists once their outcomes matured? Realised performance and retraining advice.

Fifty-two weeks after a list its outcomes are known: who entered monitoring. For every past
weekly cutoff whose window has matured this computes, county-wide and per township, the realised
AUC, the recall at the officers' capacity (the top ``capacity`` share of eligible households, as
the watch list takes them), and calibration (mean predicted risk against the realised rate,
observed/expected and the expected calibration error), and compares them with the champion's
training evaluation. Every figure is defined once in ``models.metrics``, as training defines it,
so the two can be compared on the data page.

Where the published lists of those weeks are not stored (a new deployment, or a simulated
county), the weeks are *backtested*: the champion scores the household frame rebuilt at each past
cutoff from the history (nothing after the cutoff is used, so this is what it would have
published) and is compared with what happened. ``method`` in the result says which it was.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from features.household_frame import build_household_frame
from features.policy import Policy
from models import metrics as mt
from monitoring.estimation import list_estimate
from monitoring.outcomes import HORIZON_WEEKS, WEEK, data_end, matured, realised_outcomes

AUC_TOLERANCE = 0.05
RECALL_TOLERANCE = 0.10
CALIBRATION_TOLERANCE = 0.3  # relative gap between mean predicted and realised rate
STALE_WEEKS = 52
MIN_ENTRANTS = 20  # fewer entrants in a township-week: too few to judge its recall or AUC


def _metrics(y: np.ndarray, p: np.ndarray, flagged: np.ndarray) -> dict[str, float | None]:
    """The realised figures of one list, defined as training defines them (``models.metrics``), beside
    what the calibrated probabilities estimated for it before its outcomes were known
    (``monitoring.estimation``)."""
    entrants = int(y.sum())
    both = 0 < entrants < len(y)
    estimate = list_estimate(p, flagged)
    return {
        "households": int(len(y)),
        "entrants": entrants,
        "auc": mt.safe_auc(y, p) if both else None,
        "recall_at_capacity": mt.recall_precision(y, flagged)[0] if entrants else None,
        "precision_at_capacity": mt.recall_precision(y, flagged)[1] if flagged.any() else None,
        **{k: estimate[k] for k in ("estimated_auc", "estimated_recall_at_capacity",
                                    "estimated_precision_at_capacity")},
        "mean_predicted": float(p.mean()) if len(p) else None,
        "realised_rate": float(y.mean()) if len(y) else None,
        "observed_expected": mt.observed_expected(y, p) if len(y) and p.sum() > 0 else None,
        "ece": mt.expected_calibration_error(y, p) if len(y) else None,
    }


def backtest_cutoffs(tables: dict[str, pd.DataFrame], *, weeks: int = 13, step_weeks: int = 4,
                     horizon_weeks: int = HORIZON_WEEKS) -> list[pd.Timestamp]:
    """The newest ``weeks`` matured Sundays, ``step_weeks`` apart."""
    end = data_end(tables)
    last = end - horizon_weeks * WEEK
    last = last - pd.Timedelta(days=(last.dayofweek + 1) % 7)  # back to a Sunday
    cutoffs = [last - i * step_weeks * WEEK for i in range(weeks)]
    start = tables["households"]["valid_from"].min() + 52 * WEEK
    return sorted(c for c in cutoffs if c >= start and matured(c, end, horizon_weeks))


def realised_performance(tables: dict[str, pd.DataFrame], policy: Policy, model, cutoffs: list[pd.Timestamp], *,
                         capacity: float = 0.05, horizon_weeks: int = HORIZON_WEEKS) -> pd.DataFrame:
    """One row per cutoff and township (township None = county) with the realised metrics.

    Args:
        tables: contract tables of the county history (outcomes included).
        policy: county policy.
        model: anything with ``predict_proba(frame)`` (the champion's pipeline).
        cutoffs: past cutoffs whose label windows have matured.
        capacity: share of eligible households the weekly list holds.
        horizon_weeks: the label window.
    """
    rows = []
    end = data_end(tables)
    for cutoff in cutoffs:
        if not matured(cutoff, end, horizon_weeks):
            raise ValueError(f"cutoff {pd.Timestamp(cutoff).date()} has not matured / 结果尚未成熟")
        frame = build_household_frame(tables, cutoff, policy)
        eligible = realised_outcomes(frame, tables["outcomes"], cutoff, horizon_weeks)
        p = np.asarray(model.predict_proba(eligible)[:, 1], dtype="float64")
        rows.extend(list_rows(eligible, p, cutoff, capacity))
    return pd.DataFrame(rows)


def list_rows(eligible: pd.DataFrame, p: np.ndarray, cutoff: pd.Timestamp, capacity: float) -> list[dict[str, Any]]:
    """The county row and one row per township of one matured list.

    Args:
        eligible: ``realised_outcomes`` rows (``township``, ``entered``) of the households scored.
        p: their probabilities (as published, or as the champion scores them now).
        cutoff: the list's cutoff.
        capacity: share of eligible households the list holds.
    """
    y = eligible["entered"].to_numpy()
    p = np.asarray(p, dtype="float64")
    flagged = mt.top_share(p, np.zeros(len(p)), capacity)
    rows = [{"cutoff": pd.Timestamp(cutoff), "township": None, **_metrics(y, p, flagged)}]
    towns = eligible["township"].astype(str).to_numpy()
    for town in sorted(set(towns)):
        sel = towns == town
        rows.append({"cutoff": pd.Timestamp(cutoff), "township": town, **_metrics(y[sel], p[sel], flagged[sel])})
    return rows


def _below(row: pd.Series, training: dict[str, Any], tol: dict[str, float]) -> list[str]:
    found = []
    if row["auc"] is not None and training.get("auc") is not None and row["auc"] < training["auc"] - tol["auc"]:
        found.append("auc")
    train_recall = training.get("recall_at_capacity")
    if row["recall_at_capacity"] is not None and train_recall is not None and (
            row["recall_at_capacity"] < train_recall - tol["recall"]):
        found.append("recall")
    rate, mean = row["realised_rate"], row["mean_predicted"]
    if rate is not None and mean is not None and abs(mean - rate) > max(0.02, tol["calibration"] * rate):
        found.append("calibration")
    return found


def tolerances_with(overrides: dict[str, float] | None = None) -> dict[str, float]:
    """The drop tolerances (``auc``, ``recall``, ``calibration``), with any overrides."""
    return {"auc": AUC_TOLERANCE, "recall": RECALL_TOLERANCE, "calibration": CALIBRATION_TOLERANCE,
            **(overrides or {})}


def training_figures(training_metrics: dict[str, Any], capacity: float) -> dict[str, Any]:
    """The champion's evaluation figures realised ones are compared with."""
    pct = int(round(capacity * 100))
    return {"auc": training_metrics.get("auc"), "recall_at_capacity": training_metrics.get(f"recall_at_{pct}pct"),
            "precision_at_capacity": training_metrics.get(f"precision_at_{pct}pct"),
            "ece": training_metrics.get("ece")}


def matured_alerts(table: pd.DataFrame, training: dict[str, Any], tol: dict[str, float],
                   ) -> tuple[list[dict[str, Any]], pd.DataFrame, pd.DataFrame]:
    """(alerts, county rows, township rows) of a ``realised_performance`` table: a county week or a
    township with enough entrants that fell more than a tolerance below the training evaluation."""
    alerts = []
    county = table[table["township"].isna()].copy()
    county["below"] = [_below(r, training, tol) for _, r in county.iterrows()]
    for _, r in county.iterrows():
        for what in r["below"]:
            alerts.append(_performance_alert(r, what, training, None))
    towns = table[table["township"].notna()].copy()
    towns["below"] = [
        _below(r, training, tol) if r["entrants"] >= MIN_ENTRANTS else [] for _, r in towns.iterrows()
    ]
    for _, r in towns.iterrows():
        for what in r["below"]:
            if what != "calibration":
                alerts.append(_performance_alert(r, what, training, r["township"]))
    return alerts, county, towns


def performance_report(
    tables: dict[str, pd.DataFrame],
    policy: Policy,
    model,
    training_metrics: dict[str, Any],
    *,
    capacity: float = 0.05,
    cutoffs: list[pd.Timestamp] | None = None,
    trained_until: pd.Timestamp | None = None,
    drift_summary: dict[str, Any] | None = None,
    tolerances: dict[str, float] | None = None,
    stale_weeks: float | None = None,
) -> dict[str, Any]:
    """Realised performance of matured weeks, alerts, and a retraining recommendation.

    Args:
        tables: contract tables of the county history.
        policy: county policy.
        model: the champion's pipeline.
        training_metrics: the champion's evaluation (``auc``, ``recall_at_5pct``, ``ece``...).
        capacity: list share (the training metric ``recall_at_{capacity}pct`` is compared).
        cutoffs: matured cutoffs to evaluate (default :func:`backtest_cutoffs`).
        trained_until: newest date the model learned from (for staleness; e.g. the reference's
            newest cutoff plus the horizon).
        drift_summary: the latest drift check's summary, as further evidence.
        tolerances: override ``auc``, ``recall``, ``calibration`` tolerances.
        stale_weeks: the staleness limit the champion's training measured (``training.staleness``);
            default the old rule of ``STALE_WEEKS``.

    Returns:
        JSON-ready dict: weeks (county rows), townships (township rows), alerts, recommendation.
    """
    tol = tolerances_with(tolerances)
    cutoffs = cutoffs if cutoffs is not None else backtest_cutoffs(tables)
    table = realised_performance(tables, policy, model, cutoffs, capacity=capacity)
    training = training_figures(training_metrics, capacity)
    alerts, county, towns = matured_alerts(table, training, tol)

    end = data_end(tables)
    staleness = None if trained_until is None else int((end - pd.Timestamp(trained_until)).days // 7)
    evidence = []
    degraded = int(sum(bool(b) for b in county["below"]))
    if len(county) and degraded >= max(2, len(county) // 2):
        evidence.append({"kind": "degradation", "weeks_below": degraded, "weeks": len(county),
                         "zh": f"{len(county)}个已成熟周中有{degraded}周的实际表现低于训练评估",
                         "en": f"{degraded} of {len(county)} matured weeks performed below the training evaluation"})
    limit = int(round(stale_weeks)) if stale_weeks is not None else STALE_WEEKS
    if staleness is not None and staleness > limit:
        evidence.append({"kind": "staleness", "weeks": staleness, "limit_weeks": limit,
                         "zh": f"模型所学数据距今已{staleness}周（超过{limit}周）",
                         "en": f"the newest data the model learned from is {staleness} weeks old (over {limit})"})
    if drift_summary:
        serious = [a for a in drift_summary.get("alerts", []) if a.get("severity") in ("high", "medium")
                   and a.get("kind") in ("population_change", "new_category", "local_shock")]
        share = float(drift_summary.get("share_drifted") or 0)
        if share >= 0.3 or serious:
            evidence.append({"kind": "drift", "share_drifted": share, "week": drift_summary.get("week"),
                             "zh": f"{drift_summary.get('week')}周特征漂移占{share:.0%}"
                                   + (f"，另有{len(serious)}条人群变化或新类别告警" if serious else ""),
                             "en": f"{share:.0%} of features drifted in {drift_summary.get('week')}"
                                   + (f", with {len(serious)} population-change or new-category alerts" if serious else "")})
    recommend = bool(evidence)
    recommendation = {
        "retrain": recommend,
        "evidence": evidence,
        "message_zh": ("建议重新训练模型：" + "；".join(e["zh"] for e in evidence)) if recommend
        else "暂不需要重新训练：已成熟周的表现在训练评估的容差之内，模型数据未过时",
        "message_en": ("Retraining recommended: " + "; ".join(e["en"] for e in evidence)) if recommend
        else "No retraining needed yet: matured weeks are within tolerance of the training evaluation and the model is not stale.",
    }

    def rows(frame: pd.DataFrame) -> list[dict]:
        out = frame.drop(columns=["below"]).assign(cutoff=frame["cutoff"].dt.strftime("%Y-%m-%d"),
                                                   below=frame["below"])
        return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
                for r in out.to_dict(orient="records")]

    return {
        "method": "backtest",
        "capacity": capacity,
        "horizon_weeks": HORIZON_WEEKS,
        "training": training,
        "tolerances": tol,
        "data_end": str(end.date()),
        "staleness_weeks": staleness,
        "weeks": rows(county),
        "townships": rows(towns),
        "alerts": alerts,
        "recommendation": recommendation,
    }


def _performance_alert(row: pd.Series, what: str, training: dict[str, Any], township: str | None) -> dict[str, Any]:
    week = row["cutoff"].strftime("%Y-%m-%d")
    where_zh = f"{township}" if township else "全县"
    where_en = township if township else "county"
    if what == "auc":
        zh = f"{where_zh}{week}名单的实际AUC为{row['auc']:.3f}，低于训练评估{training['auc']:.3f}"
        en = f"{where_en}: realised AUC of the {week} list is {row['auc']:.3f}, below the training {training['auc']:.3f}"
    elif what == "recall":
        zh = (f"{where_zh}{week}名单在工作能力范围内的实际召回率为{row['recall_at_capacity']:.1%}，"
              f"低于训练评估{training['recall_at_capacity']:.1%}")
        en = (f"{where_en}: realised recall at capacity of the {week} list is {row['recall_at_capacity']:.1%}, "
              f"below the training {training['recall_at_capacity']:.1%}")
    else:
        zh = f"{where_zh}{week}名单平均预测风险{row['mean_predicted']:.1%}，实际纳入监测比例{row['realised_rate']:.1%}，校准偏离"
        en = (f"{where_en}: the {week} list predicted {row['mean_predicted']:.1%} on average, "
              f"{row['realised_rate']:.1%} entered monitoring: miscalibrated")
    return {"severity": "medium" if township is None else "low", "kind": f"performance_{what}",
            "township": township, "feature": None, "week": week, "message_zh": zh, "message_en": en, "psi": None}
