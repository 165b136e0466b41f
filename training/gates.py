"""Registration gates: which alias a newly trained version gets.

- No champion yet: the version becomes ``champion`` only if it beats the official rules on the
  test rows (higher AUC and higher recall at 5%); otherwise ``challenger``.
- A champion exists: the candidate and the champion are scored on the *same* test rows. The
  candidate becomes ``champion`` only if its AUC and recall at 5% are not worse than the
  champion's beyond a tolerance, its ECE is under the threshold and no slice's recall at 10%
  falls below the floor; otherwise it stays ``challenger`` with the reasons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

DEFAULT_GATES = {
    "auc_tolerance": 0.005,
    "recall_tolerance": 0.01,
    "ece_max": 0.02,
    "slice_recall_floor": 0.15,
    "slice_min_entrants": 20,
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


def slice_failures(slices: pd.DataFrame, scorer: str, floor: float, min_entrants: int) -> list[str]:
    """Slices (with enough entrants to judge) whose recall at 10% is below the floor."""
    if slices is None or slices.empty:
        return []
    col = f"{scorer}_recall_at_10pct"
    judged = slices.loc[slices["entrants"] >= min_entrants]
    low = judged.loc[judged[col] < floor]
    return [f"{r.slice}={r.value} recall@10% {getattr(r, col):.3f} < {floor}" for r in low.itertuples()]


def decide(
    candidate: dict[str, float],
    rules: dict[str, float],
    slices: pd.DataFrame | None,
    champion: dict[str, float] | None,
    gates: dict[str, float] | None = None,
    logistic: dict[str, float] | None = None,
) -> Decision:
    """Choose ``champion`` or ``challenger`` for a candidate.

    Args:
        candidate: the candidate's test metrics (auc, recall_at_5pct, ece).
        rules: the rules baseline's metrics on the same rows (None for a table without the
            contract fields the rules need: the first version must then reach AUC 0.55).
        slices: the slice table with ``model_recall_at_10pct`` and ``entrants`` columns.
        champion: the current champion's metrics on the same rows, or None when there is none.
        gates: thresholds (``DEFAULT_GATES`` keys).
        logistic: the logistic baseline's metrics (reported in the reason when there are no rules).
    """
    g = {**DEFAULT_GATES, **(gates or {})}
    reasons: list[str] = []
    checks: dict[str, Any] = {}
    if champion is None and rules is None:
        # A researcher's own table has no official ranking to beat: the first version must be
        # clearly better than chance; the logistic baseline is reported beside it, not a gate.
        bar = (logistic or {}).get("auc", float("nan"))
        ok = candidate["auc"] >= g.get("first_auc_min", 0.55)
        checks.update(above_chance=ok, logistic_auc=bar)
        if not ok:
            return Decision("challenger", [f"AUC {candidate['auc']:.3f} is not clearly above chance (0.55); "
                                           "no rules baseline in this table"], checks)
        return Decision("champion", [f"first version; no rules baseline in this table; AUC {candidate['auc']:.3f} "
                                     f"(logistic baseline {bar:.3f}) / 首个版本（无规则基线）"], checks)
    if champion is None:
        beats_auc = candidate["auc"] > rules["auc"]
        beats_recall = candidate["recall_at_5pct"] > rules["recall_at_5pct"]
        checks.update(beats_rules_auc=beats_auc, beats_rules_recall=beats_recall)
        if not beats_auc:
            reasons.append(f"AUC {candidate['auc']:.3f} does not beat the rules' {rules['auc']:.3f}")
        if not beats_recall:
            reasons.append(f"recall@5% {candidate['recall_at_5pct']:.3f} does not beat the rules' "
                           f"{rules['recall_at_5pct']:.3f}")
        if reasons:
            return Decision("challenger", reasons, checks)
        return Decision("champion", ["first version and it beats the official rules / 首个版本且优于规则"], checks)

    auc_ok = candidate["auc"] >= champion["auc"] - g["auc_tolerance"]
    recall_ok = candidate["recall_at_5pct"] >= champion["recall_at_5pct"] - g["recall_tolerance"]
    ece_ok = math.isfinite(candidate["ece"]) and candidate["ece"] <= g["ece_max"]
    failing = slice_failures(slices, "model", g["slice_recall_floor"], int(g["slice_min_entrants"]))
    checks.update(auc_ok=auc_ok, recall_ok=recall_ok, ece_ok=ece_ok, slices_ok=not failing,
                  champion_auc=champion["auc"], champion_recall_at_5pct=champion["recall_at_5pct"])
    if not auc_ok:
        reasons.append(f"AUC {candidate['auc']:.4f} worse than the champion's {champion['auc']:.4f} "
                       f"beyond {g['auc_tolerance']}")
    if not recall_ok:
        reasons.append(f"recall@5% {candidate['recall_at_5pct']:.4f} worse than the champion's "
                       f"{champion['recall_at_5pct']:.4f} beyond {g['recall_tolerance']}")
    if not ece_ok:
        reasons.append(f"ECE {candidate['ece']:.4f} above {g['ece_max']}")
    reasons.extend(failing)
    if reasons:
        return Decision("challenger", reasons, checks)
    return Decision("champion", ["passes every gate against the current champion / 通过全部门槛"], checks)
