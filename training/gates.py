"""Registration gates: which alias a newly trained version gets.

Every version, the first included, must pass the gates that protect the people on the list:
- calibration where visits are decided: ECE at most ``ece_relative_max`` of the base rate, and
  observed/expected of the top 5% list within ``top5_oe_low`` .. ``top5_oe_high``, judged when the
  test part has at least ``calibration_min_entrants`` entrants (with fewer, a perfectly calibrated
  model's ECE is mostly sampling noise: 15 bins of 20 rows at a 15% rate scatter by 0.08 each);
- slices: no slice with ``slice_min_entrants`` or more entrants has a recall at 5% more than
  ``slice_margin`` below the whole county's unless its 95% interval reaches the county's; the
  households meeting no official criterion yet (``slice_exempt``) are lower by construction and
  must instead be found more often than the stronger rules baseline finds them;
- lead time (when the weekly-list backtest ran): the share of entrants warned beats a random list
  of the same coverage by at least ``lead_gain_min``.
- the strongest baseline (rules, fitted rules, scorecard, village and township past entry rates,
  logistic): the lower end of the recall ratio's interval at least ``ratio_low_min``;
- the served model itself, on the newest matured quarter it never saw (``served``): it beats the
  strongest baseline there and its top-5% observed/expected lies in the holdout band.
For a county the candidate's figures are the pooled normal years of the rolling-origin backtest
(training/rolling.py), so one flood or one lucky year does not decide. Then:
- No champion yet: the version must beat the *stronger* rules baseline (hand-set or fitted) on
  AUC and on recall at 5% (a table without the rules' fields: AUC at least ``first_auc_min``).
- A champion exists: the candidate and the champion are scored on rows *neither saw* (the
  candidate's held-out quarter, when the champion's data ended before it); the candidate's AUC
  and recall at 5% may not be worse than the champion's beyond a tolerance. A candidate whose
  data ends before the champion's has no such rows and is refused as stale.
A version failing any gate stays ``challenger`` with the reasons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

DEFAULT_GATES = {
    "auc_tolerance": 0.005,
    "recall_tolerance": 0.01,
    "ece_relative_max": 0.15,
    "top5_oe_low": 0.85,
    "top5_oe_high": 1.15,
    "slice_margin": 0.05,
    "slice_min_entrants": 30,
    "lead_gain_min": 0.10,
    "first_auc_min": 0.55,
    "calibration_min_entrants": 200,
    "slice_exempt": ["no_criterion"],
    "ratio_low_min": 1.0,
    "holdout_min_entrants": 100,
    "holdout_oe_low": 0.80,
    "holdout_oe_high": 1.25,
}


@dataclass
class Decision:
    """The alias a version gets and why."""

    alias: str
    reasons: list[str] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def slice_failures(slices: pd.DataFrame | None, whole: float, margin: float, min_entrants: int,
                   exempt: tuple[str, ...] = ()) -> list[str]:
    """Slices (with enough entrants to judge) whose model recall at 5% is more than ``margin``
    below the whole county's and whose 95% interval (``model_recall_at_5pct_high``) does not
    reach it. A slice without an interval is judged on its point estimate; ``exempt`` slices
    (by name) are not compared with the county."""
    if slices is None or slices.empty or "model_recall_at_5pct" not in slices:
        return []
    judged = slices.loc[(slices["entrants"] >= min_entrants) & ~slices["slice"].isin(list(exempt))]
    high = judged.get("model_recall_at_5pct_high", pd.Series(float("nan"), index=judged.index)).astype(float)
    low = judged.loc[(judged["model_recall_at_5pct"] < whole - margin) & ~(high >= whole)]
    return [f"{r.slice}={r.value} recall@5% {r.model_recall_at_5pct:.3f} is more than {margin} below the "
            f"county's {whole:.3f} (interval up to {_show(h)})" for r, h in zip(low.itertuples(), high[low.index], strict=True)]


def early_warning_failures(slices: pd.DataFrame | None, names: tuple[str, ...], min_entrants: int) -> list[str]:
    """An exempt slice (households meeting no official criterion yet) is harder than the county by
    construction: it is defined by the absence of the rules' signals. There the model must catch
    more entrants than the stronger rules baseline does, or it adds no early warning."""
    if slices is None or slices.empty or not names or "model_recall_at_5pct" not in slices:
        return []
    rules = [c for c in ("rules_recall_at_5pct", "rules_fitted_recall_at_5pct") if c in slices]
    if not rules:
        return []
    rows = slices.loc[slices["slice"].isin(list(names)) & (slices["entrants"] >= min_entrants)]
    best = rows[rules].max(axis=1)
    low = rows.loc[~(rows["model_recall_at_5pct"] > best)]
    return [f"{r.slice}={r.value} recall@5% {r.model_recall_at_5pct:.3f} does not beat the stronger rules' "
            f"{b:.3f} there" for r, b in zip(low.itertuples(), best[low.index], strict=True)]


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def protection_failures(candidate: dict[str, Any], slices: pd.DataFrame | None, g: dict[str, Any]) -> list[str]:
    """The gates every version must pass: calibration, slices and (when measured) lead time."""
    reasons = []
    entrants = candidate.get("test_entrants")
    if not _finite(entrants) or entrants >= g["calibration_min_entrants"]:
        ece_rel = candidate.get("ece_relative")
        if not _finite(ece_rel) or ece_rel > g["ece_relative_max"]:
            reasons.append(f"ECE is {_show(ece_rel)} of the base rate, above {g['ece_relative_max']}")
        oe = candidate.get("top5_observed_expected")
        if not _finite(oe) or not g["top5_oe_low"] <= oe <= g["top5_oe_high"]:
            reasons.append(f"top-5% observed/expected {_show(oe)} outside {g['top5_oe_low']}-{g['top5_oe_high']}")
    reasons.extend(slice_failures(slices, candidate["recall_at_5pct"], g["slice_margin"], int(g["slice_min_entrants"]),
                                  tuple(g["slice_exempt"])))
    reasons.extend(early_warning_failures(slices, tuple(g["slice_exempt"]), int(g["slice_min_entrants"])))
    warned, random = candidate.get("share_warned"), candidate.get("random_list_lead_share")
    if _finite(warned) and _finite(random) and warned - random < g["lead_gain_min"]:
        reasons.append(f"warns {warned:.3f} of entrants, a random list of the same coverage {random:.3f}: "
                       f"gain below {g['lead_gain_min']}")
    return reasons


def _show(value: Any) -> str:
    return f"{value:.3f}" if _finite(value) else "not measurable"


def best_rules(*baselines: dict[str, float] | None) -> dict[str, float] | None:
    """Per metric, the stronger of the rules baselines (hand-set and fitted)."""
    present = [b for b in baselines if b]
    if not present:
        return None
    keys = ("auc", "recall_at_5pct", "recall_at_10pct", "pr_auc")
    return {k: max((b[k] for b in present if _finite(b.get(k))), default=float("nan")) for k in keys}


def decide(
    candidate: dict[str, float],
    rules: dict[str, float] | None,
    slices: pd.DataFrame | None,
    champion: dict[str, float] | None,
    gates: dict[str, float] | None = None,
    logistic: dict[str, float] | None = None,
    fitted_rules: dict[str, float] | None = None,
    served: dict[str, Any] | None = None,
    candidate_on_unseen: dict[str, float] | None = None,
    unseen_note: str | None = None,
) -> Decision:
    """Choose ``champion`` or ``challenger`` for a candidate.

    Args:
        candidate: the candidate's test metrics (auc, recall_at_5pct, ece_relative,
            top5_observed_expected; share_warned and random_list_lead_share when measured).
        rules: the hand-set rules baseline's metrics on the same rows (None for a table without
            the contract fields the rules need: the first version must then reach ``first_auc_min``).
        slices: the slice table (``entrants``, ``model_recall_at_5pct`` and its interval's
            ``model_recall_at_5pct_high``).
        champion: the current champion's metrics on the same rows, or None when there is none.
        gates: thresholds (``DEFAULT_GATES`` keys).
        logistic: the logistic baseline's metrics (reported in the reason when there are no rules).
        fitted_rules: the fitted rules baseline's metrics on the same rows.
        served: the served model's check on its held-out quarter (``training.served_check``):
            its ``reasons`` refuse the version.
        candidate_on_unseen: the candidate's metrics on the rows neither it nor the champion saw
            (``champion`` must be the champion's on the same rows); without them the champion
            comparison uses ``candidate``.
        unseen_note: why no such rows exist (the candidate's data is older than the champion's):
            refuses a later version.
    """
    g = {**DEFAULT_GATES, **(gates or {})}
    reasons = protection_failures(candidate, slices, g)
    low = candidate.get("recall_ratio_low")
    if rules is not None and _finite(low) and low < g["ratio_low_min"]:
        reasons.append(f"recall@5% is {_show(candidate.get('recall_ratio_vs_best_rules'))}x the strongest "
                       f"baseline's, interval down to {low:.3f} (below {g['ratio_low_min']})")
    if served is not None:
        reasons.extend(served.get("reasons", []))
    checks: dict[str, Any] = {"protection_ok": not reasons, "calibration_judged": not _finite(
        candidate.get("test_entrants")) or candidate["test_entrants"] >= g["calibration_min_entrants"]}
    unjudged = [] if checks["calibration_judged"] else [
        f"calibration not judged: {candidate['test_entrants']} test entrants, fewer than {g['calibration_min_entrants']}"]
    stronger = best_rules(rules, fitted_rules) if rules is not None else None
    if champion is None and stronger is None:
        # A researcher's own table has no official ranking to beat: the first version must be
        # clearly better than chance; the logistic baseline is reported beside it, not a gate.
        bar = (logistic or {}).get("auc", float("nan"))
        ok = candidate["auc"] >= g["first_auc_min"]
        checks.update(above_chance=ok, logistic_auc=bar)
        if not ok:
            reasons.insert(0, f"AUC {candidate['auc']:.3f} is not clearly above chance ({g['first_auc_min']}); "
                              "no rules baseline in this table")
        if reasons:
            return Decision("challenger", reasons, checks)
        return Decision("champion", [f"first version; no rules baseline in this table; AUC {candidate['auc']:.3f} "
                                     f"(logistic baseline {bar:.3f}) / 首个版本（无规则基线）", *unjudged], checks)
    if champion is None:
        beats_auc = candidate["auc"] > stronger["auc"]
        beats_recall = candidate["recall_at_5pct"] > stronger["recall_at_5pct"]
        checks.update(beats_rules_auc=beats_auc, beats_rules_recall=beats_recall, best_rules=stronger)
        if not beats_auc:
            reasons.append(f"AUC {candidate['auc']:.3f} does not beat the stronger rules' {stronger['auc']:.3f}")
        if not beats_recall:
            reasons.append(f"recall@5% {candidate['recall_at_5pct']:.3f} does not beat the stronger rules' "
                           f"{stronger['recall_at_5pct']:.3f}")
        if reasons:
            return Decision("challenger", reasons, checks)
        return Decision("champion", ["first version; it beats the stronger rules baseline and passes the "
                                     "calibration and slice gates / 首个版本，优于规则且通过全部门槛", *unjudged], checks)

    if unseen_note:
        reasons.append(unseen_note)
        return Decision("challenger", reasons, checks)
    if candidate_on_unseen is not None:
        candidate = {**candidate, "auc": candidate_on_unseen["auc"], "recall_at_5pct": candidate_on_unseen["recall_at_5pct"]}
    auc_ok = candidate["auc"] >= champion["auc"] - g["auc_tolerance"]
    recall_ok = candidate["recall_at_5pct"] >= champion["recall_at_5pct"] - g["recall_tolerance"]
    checks.update(auc_ok=auc_ok, recall_ok=recall_ok,
                  champion_auc=champion["auc"], champion_recall_at_5pct=champion["recall_at_5pct"])
    if not auc_ok:
        reasons.append(f"AUC {candidate['auc']:.4f} worse than the champion's {champion['auc']:.4f} "
                       f"beyond {g['auc_tolerance']}")
    if not recall_ok:
        reasons.append(f"recall@5% {candidate['recall_at_5pct']:.4f} worse than the champion's "
                       f"{champion['recall_at_5pct']:.4f} beyond {g['recall_tolerance']}")
    if reasons:
        return Decision("challenger", reasons, checks)
    return Decision("champion", ["passes every gate against the current champion / 通过全部门槛", *unjudged], checks)
