"""Champion against challenger on the same live week: rank agreement, list overlap, and realised
recall once the week's outcomes come in.

- Rank agreement over every scored household: Spearman's rho and Kendall's tau-b of the two
  probabilities (scipy). 1 means the same order; a recalibrated copy of the champion scores 1.
- List overlap at the watch list's capacity: each model's capacity list (each township's highest
  risks up to its visit capacity, ``serving.core.watchlist``); overlap = households on both / households
  on the champion's list.
- Realised recall: of the households not under monitoring at the week's cutoff that entered
  monitoring within the label window (52 weeks), the share each model's capacity list held. Until
  the window has passed the figure counts the entrants known so far (``matured`` False).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from monitoring.outcomes import HORIZON_WEEKS


def rank_agreement(champion: np.ndarray, challenger: np.ndarray) -> dict[str, float | None]:
    """Spearman and Kendall (tau-b) correlation of two models' probabilities on the same rows."""
    from scipy.stats import kendalltau, spearmanr

    a, b = np.asarray(champion, dtype="float64"), np.asarray(challenger, dtype="float64")
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return {"spearman": None, "kendall": None}
    return {"spearman": float(spearmanr(a, b).statistic), "kendall": float(kendalltau(a, b).statistic)}


def list_overlap(champion_listed: np.ndarray, challenger_listed: np.ndarray) -> dict[str, Any]:
    """Sizes of the two capacity lists, households on both, and overlap (both / champion's)."""
    a, b = np.asarray(champion_listed, dtype=bool), np.asarray(challenger_listed, dtype=bool)
    both = int((a & b).sum())
    return {"champion_listed": int(a.sum()), "challenger_listed": int(b.sum()), "both": both,
            "overlap": both / int(a.sum()) if a.any() else None}


def realised_recall(entrants: set[str], champion_list: set[str], challenger_list: set[str], *,
                    cutoff: pd.Timestamp, data_end: pd.Timestamp,
                    horizon_weeks: int = HORIZON_WEEKS) -> dict[str, Any]:
    """Recall of each capacity list over the eligible entrants known by ``data_end``.

    Args:
        entrants: eligible households (scored, not under monitoring at the cutoff) that entered.
        champion_list, challenger_list: each model's capacity list that week.
        cutoff: the week's cutoff; data_end: the newest date the outcomes are known to.
        horizon_weeks: the label window.
    """
    observed = max(0, min(horizon_weeks, int((pd.Timestamp(data_end) - pd.Timestamp(cutoff)).days // 7)))
    n = len(entrants)
    return {
        "entrants": n,
        "weeks_observed": observed,
        "matured": observed >= horizon_weeks,
        "champion_recall": len(entrants & champion_list) / n if n else None,
        "challenger_recall": len(entrants & challenger_list) / n if n else None,
    }


def summarise(weeks: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean agreement and overlap over shadow weeks (each a stored summary), and the pooled
    realised recall of the weeks whose outcomes have matured."""
    def mean(key: str) -> float | None:
        values = [w[key] for w in weeks if w.get(key) is not None]
        return float(np.mean(values)) if values else None

    matured = [w["realised"] for w in weeks if (w.get("realised") or {}).get("matured")]
    entrants = sum(r["entrants"] for r in matured)
    pooled = {
        f"{who}_recall": (sum(r[f"{who}_recall"] * r["entrants"] for r in matured if r["entrants"]) / entrants
                          if entrants else None)
        for who in ("champion", "challenger")
    }
    return {"weeks": len(weeks), "spearman": mean("spearman"), "kendall": mean("kendall"),
            "overlap": mean("overlap"), "matured_weeks": len(matured), "matured_entrants": entrants, **pooled}
