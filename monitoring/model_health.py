"""The served model's health, every week: its age against the measured staleness limit, the
libraries it runs on, this week's estimated list quality and the realised quality of the list
whose 52 weeks have just passed.

Pure: the weekly job (``serving.jobs.model_health``) gathers the inputs and stores the result with
the week; the data page and ``fanpin weekly --json`` show it. Alerts have the drift alerts' shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from features.json_safe import plain
from monitoring.alerts import county_alert
from monitoring.estimation import estimated_performance
from monitoring.performance import STALE_WEEKS, matured_alerts, tolerances_with, training_figures

WEEK = pd.Timedelta(weeks=1)
CAPACITY = 0.05  # the list share training evaluates (recall_at_5pct): estimates compare with it
ESTIMATE_SHIFT = 0.25  # relative week-over-week change of the list's expected precision (see estimate)


def staleness(cutoff: pd.Timestamp, metrics: dict[str, Any], trained_until: pd.Timestamp | None, *,
              week: str | None = None) -> dict[str, Any]:
    """The champion's weeks since its data ended against the limit its training run measured
    (``training.staleness``), or the old 52-week rule when the run measured none.

    Args:
        cutoff: this week's cutoff.
        metrics: the champion's evaluation (``staleness`` and ``served.data_end`` when logged).
        trained_until: the end of the data it learned from, when ``metrics`` does not say.
        week: the ISO week, for the alert.
    """
    measured = metrics.get("staleness") or {}
    served = metrics.get("served") or {}
    end = served.get("data_end") or (None if trained_until is None else str(pd.Timestamp(trained_until).date()))
    if end is None:
        return {"checked": False, "reason": "the champion does not say when its data ended", "alerts": []}
    weeks = float((pd.Timestamp(cutoff) - pd.Timestamp(end)) / WEEK)
    if measured.get("measured"):
        limit, source = float(measured["limit_weeks_after_data_end"]), "measured"
    else:
        limit, source = float(STALE_WEEKS), "default"
    out = {"checked": True, "data_end": str(pd.Timestamp(end).date()), "weeks_since_data_end": round(weeks, 1),
           "limit_weeks": limit, "limit_source": source, "stale": weeks > limit,
           "limit_ci": measured.get("limit_weeks_after_data_end_ci"), "alerts": []}
    if weeks > limit:
        why_zh = ("训练时测得的质量下降曲线给出的期限" if source == "measured" else "默认期限（训练时未测得曲线）")
        why_en = ("the age at which its measured quality curve falls beyond tolerance" if source == "measured"
                  else "the default limit (its training run measured no curve)")
        out["alerts"].append(county_alert(
            "model_stale", week,
            f"模型所学数据截至{out['data_end']}，距今{weeks:.0f}周，已超过{why_zh}{limit:.0f}周：请重新训练",
            f"the model's data ended {out['data_end']}, {weeks:.0f} weeks ago, beyond {why_en} ({limit:.0f} weeks): "
            "retrain"))
    return out


def estimate(probability: np.ndarray, eligible: np.ndarray, metrics: dict[str, Any], *,
             previous: np.ndarray | None = None, week: str | None = None,
             tolerances: dict[str, float] | None = None) -> dict[str, Any]:
    """This week's expected recall and precision at capacity (``monitoring.estimation``) beside the
    training evaluation and last week's estimate.

    Alerts: the expected recall falls below the training evaluation by more than the realised
    monitor's tolerance; or the expected precision of the list moved by more than
    ``ESTIMATE_SHIFT`` of last week's in one week (on the simulator's clean weeks it moves by at most
    4%; a flood moved it by 70%, incomes read in 万元 by 260%): the risk the model sees changed
    faster than households do, so look at the drift alerts before visiting.

    Args:
        probability: this week's calibrated probabilities (every scored household).
        eligible: households not under monitoring (the ones a list can add).
        metrics: the champion's evaluation.
        previous: last week's probabilities of this week's eligible households (NaN for new ones).
    """
    tol = tolerances_with(tolerances)
    p = np.asarray(probability, dtype="float64")[np.asarray(eligible, dtype=bool)]
    out: dict[str, Any] = {**estimated_performance(p, CAPACITY), "capacity": CAPACITY,
                           "training": training_figures(metrics, CAPACITY), "alerts": []}
    before = None if previous is None else np.asarray(previous, dtype="float64")
    before = None if before is None or not np.isfinite(before).any() else before[np.isfinite(before)]
    last = None if before is None else estimated_performance(before, CAPACITY)["estimated_precision_at_capacity"]
    now = out["estimated_precision_at_capacity"]
    out["previous_estimated_precision_at_capacity"] = last
    if last and now is not None and abs(now - last) > ESTIMATE_SHIFT * last:
        out["alerts"].append(county_alert(
            "estimate_shift", week,
            f"按校准概率估计，本周名单中将纳入监测的比例为{now:.1%}，上周为{last:.1%}，一周内变化过大：请先查看数据漂移告警",
            f"from the calibrated probabilities, {now:.1%} of this week's list should enter monitoring against "
            f"{last:.1%} last week: too large a change for one week; check the drift alerts first"))
    recall, trained = out["estimated_recall_at_capacity"], out["training"]["recall_at_capacity"]
    if recall is not None and trained is not None and recall < trained - tol["recall"]:
        out["alerts"].append(county_alert(
            "estimated_recall", week, f"按校准概率估计，本周名单召回率约{recall:.1%}，低于训练评估{trained:.1%}",
            f"from the calibrated probabilities, this week's list should catch about {recall:.1%} of entrants, "
            f"below the training evaluation's {trained:.1%}"))
    return out


def matured(table: pd.DataFrame | None, metrics: dict[str, Any], *, method: str,
            tolerances: dict[str, float] | None = None) -> dict[str, Any]:
    """The realised figures of the list whose outcomes matured (``monitoring.performance``), the
    estimate made from the same probabilities beside them, and drop alerts."""
    if table is None or not len(table):
        return {"checked": False, "reason": "no list has matured yet", "alerts": []}
    training = training_figures(metrics, CAPACITY)
    alerts, county, towns = matured_alerts(table, training, tolerances_with(tolerances))
    row = county.iloc[0].to_dict()
    return {"checked": True, "method": method, "cutoff": str(pd.Timestamp(row.pop("cutoff")).date()),
            "county": {k: plain(v) for k, v in row.items() if k not in ("township",)},
            "townships_below": int(sum(bool(b) for b in towns["below"])), "training": training, "alerts": alerts}


def assess(**parts: dict[str, Any]) -> dict[str, Any]:
    """The week's model health: the parts as given, and every part's alerts in one list."""
    alerts = [a for part in parts.values() for a in part.get("alerts", [])]
    return {**parts, "alerts": alerts}


