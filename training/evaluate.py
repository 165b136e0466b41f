"""Evaluation: the model and the baselines on the same test rows, in the terms officers use.

Definitions (also written into the report and the model card):
- ROC-AUC, PR-AUC (average precision), Brier score: pooled over all test rows.
- ECE (expected calibration error): 15 equal-frequency bins of the predicted probability; the
  row-weighted mean of |mean predicted - observed rate| per bin. Equal-frequency because the base
  rate is a few percent: equal-width bins would put nearly every row in the first bin.
- Recall/precision at capacity: at each cutoff the top ``share`` (5%, 10%) of eligible households
  by score are "listed" (officers can visit that many); recall = listed households that entered
  monitoring / all that entered, pooled over cutoffs; precision = entered / listed.
- Slice recall at 10%: the share of the slice's entrants that the county-wide top-10% list
  catches (the list is county-wide; a slice does not get its own quota).
- Lead time: weekly watch lists (top share per week); for each household that entered
  monitoring, the weeks between the first week it was listed (within one horizon before entry)
  and its entry.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

ECE_BINS = 15
CAPACITIES = (0.05, 0.10)


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE over ``bins`` equal-frequency bins (see module docstring)."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if len(y) == 0:
        return float("nan")
    order = np.argsort(p, kind="stable")
    chunks = np.array_split(order, min(bins, len(y)))
    return float(sum(len(c) * abs(p[c].mean() - y[c].mean()) for c in chunks if len(c)) / len(y))


def reliability(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> pd.DataFrame:
    """Mean predicted and observed rate per equal-frequency bin (the calibration plot)."""
    order = np.argsort(np.asarray(p), kind="stable")
    rows = [
        {"predicted": float(np.mean(p[c])), "observed": float(np.mean(y[c])), "n": len(c)}
        for c in np.array_split(order, min(bins, max(len(order), 1)))
        if len(c)
    ]
    return pd.DataFrame(rows)


def top_share(score: np.ndarray, groups: np.ndarray, share: float) -> np.ndarray:
    """Boolean mask: the top ``ceil(share * n)`` rows by score within each group (cutoff).

    Ties are broken by row order, which callers keep sorted by household_id: deterministic.
    """
    frame = pd.DataFrame({"g": np.asarray(groups), "s": np.asarray(score, dtype=float)})
    rank = frame.groupby("g")["s"].rank(method="first", ascending=False)
    size = frame.groupby("g")["s"].transform("size")
    return (rank <= np.ceil(share * size)).to_numpy()


def _safe_auc(y: np.ndarray, s: np.ndarray) -> float:
    return float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else float("nan")


def _safe_ap(y: np.ndarray, s: np.ndarray) -> float:
    return float(average_precision_score(y, s)) if 0 < y.sum() < len(y) else float("nan")


def score_metrics(y: np.ndarray, score: np.ndarray, groups: np.ndarray, *, probability: bool) -> dict[str, float]:
    """AUC, PR-AUC, capacity metrics and, for probabilities, Brier and ECE."""
    y = np.asarray(y).astype(int)
    score = np.asarray(score, dtype=float)
    out = {
        "auc": _safe_auc(y, score),
        "pr_auc": _safe_ap(y, score),
        "brier": float(brier_score_loss(y, score)) if probability else float("nan"),
        "ece": expected_calibration_error(y, score) if probability else float("nan"),
        "mean_predicted": float(score.mean()) if probability else float("nan"),
        "base_rate": float(y.mean()) if len(y) else float("nan"),
    }
    positives = max(int(y.sum()), 1)
    for share in CAPACITIES:
        listed = top_share(score, groups, share)
        hits = int((listed & (y == 1)).sum())
        key = f"{round(share * 100)}pct"
        out[f"recall_at_{key}"] = hits / positives
        out[f"precision_at_{key}"] = hits / max(int(listed.sum()), 1)
    return out


def slice_masks(frame: pd.DataFrame) -> dict[tuple[str, str], np.ndarray]:
    """The slices the issue names: (slice, value) -> row mask."""
    masks: dict[tuple[str, str], np.ndarray] = {}
    for col in ("township", "category"):
        for value in sorted(frame[col].astype(str).unique()):
            masks[(col, value)] = (frame[col].astype(str) == value).to_numpy()
    masks[("elderly_only", "true")] = frame["elderly_only"].astype(bool).to_numpy()
    masks[("disabled_member", "true")] = (frame["n_disabled"] > 0).to_numpy()
    masks[("chronic_or_major_illness", "true")] = ((frame["n_chronic"] + frame["n_major_illness"]) > 0).to_numpy()
    masks[("minority_township", "true")] = frame["minority_township"].astype(bool).to_numpy()
    masks[("minority_township", "false")] = ~frame["minority_township"].astype(bool).to_numpy()
    return masks


SLICE_LABELS = {
    "township": "乡镇 / township",
    "category": "户类型 / household category",
    "elderly_only": "纯老年人家庭 / elderly-only",
    "disabled_member": "有残疾成员 / disabled member",
    "chronic_or_major_illness": "有慢性病或大病成员 / chronic or major illness",
    "minority_township": "少数民族乡镇 / ethnic-minority township",
}


def slice_table(frame: pd.DataFrame, y: np.ndarray, scores: Mapping[str, np.ndarray], groups: np.ndarray) -> pd.DataFrame:
    """Per slice: rows, entrants, and for each scorer AUC within the slice and recall at 5%/10%
    of the county-wide lists."""
    y = np.asarray(y).astype(int)
    listed = {name: {share: top_share(s, groups, share) for share in CAPACITIES} for name, s in scores.items()}
    rows = []
    for (col, value), mask in slice_masks(frame).items():
        if not mask.any():
            continue
        ys = y[mask]
        row: dict[str, object] = {"slice": col, "value": value, "rows": int(mask.sum()), "entrants": int(ys.sum()),
                                  "base_rate": float(ys.mean())}
        for name, s in scores.items():
            row[f"{name}_auc"] = _safe_auc(ys, np.asarray(s)[mask])
            for share in CAPACITIES:
                hits = int((listed[name][share][mask] & (ys == 1)).sum())
                row[f"{name}_recall_at_{round(share * 100)}pct"] = hits / ys.sum() if ys.sum() else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def lead_times(
    listings: pd.DataFrame, entries: pd.DataFrame, *, horizon_weeks: int = 52
) -> dict[str, float]:
    """Early-warning lead time of one scorer's weekly watch lists.

    Args:
        listings: rows (household_id, week) for every week a household was on the list.
        entries: rows (household_id, entry_date) of the entries to evaluate; each must have a full
            lookback of watch lists (the caller chooses entries at least one horizon after the
            first list).
        horizon_weeks: how far before an entry a listing still counts as warning of it.

    Returns:
        ``entrants``; ``share_warned`` (listed at least once before entry); ``median_lead_weeks``
        (median over warned entrants); ``median_lead_weeks_all`` (unwarned count as 0);
        ``share_lead_4w`` and ``share_lead_12w`` (over all entrants).
    """
    n = len(entries)
    if n == 0:
        return {"entrants": 0, "share_warned": float("nan"), "median_lead_weeks": float("nan"),
                "median_lead_weeks_all": float("nan"), "share_lead_4w": float("nan"), "share_lead_12w": float("nan")}
    e = entries[["household_id", "entry_date"]].reset_index(drop=True).reset_index(names="entry")
    joined = e.merge(listings[["household_id", "week"]], on="household_id", how="inner")
    before = joined.loc[(joined["week"] < joined["entry_date"])
                        & (joined["week"] >= joined["entry_date"] - pd.Timedelta(weeks=horizon_weeks))]
    first = before.groupby("entry")["week"].min()
    lead = np.zeros(n)
    warned = np.zeros(n, dtype=bool)
    lead[first.index.to_numpy()] = ((e.loc[first.index, "entry_date"] - first) / pd.Timedelta(weeks=1)).to_numpy()
    warned[first.index.to_numpy()] = True
    return {
        "entrants": int(n),
        "share_warned": float(warned.mean()),
        "median_lead_weeks": float(np.median(lead[warned])) if warned.any() else 0.0,
        "median_lead_weeks_all": float(np.median(lead)),
        "share_lead_4w": float((lead >= 4).mean()),
        "share_lead_12w": float((lead >= 12).mean()),
    }


def headroom_share(auc: float, oracle_auc: float | None) -> float | None:
    """(AUC - 0.5) / (oracle AUC - 0.5): the share of the achievable improvement over chance."""
    if oracle_auc is None or not np.isfinite(oracle_auc) or oracle_auc <= 0.5:
        return None
    return float((auc - 0.5) / (oracle_auc - 0.5))
