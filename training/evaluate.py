"""Evaluation: the model and the baselines on the same test rows, in the terms officers use.

The shared figures (ECE, recall and precision at capacity, observed/expected) are defined once in
``models.metrics``; this module puts them together. Definitions (also in the report and the card):
- ROC-AUC, PR-AUC (average precision), Brier score: pooled over all test rows.
- Calibration: ECE (``models.metrics``) and ECE relative to the base rate; observed/expected
  overall, per test cutoff, on the top 5% and top 10% lists and per slice.
- Recall/precision at capacity: the top 5% / 10% of eligible households per cutoff.
- Slice recall: the share of the slice's entrants that the county-wide list catches (the list is
  county-wide; a slice does not get its own quota).
- Lead time: weekly watch lists (top share per week); for each household that entered
  monitoring, the weeks between the first week it was listed (within one horizon before entry)
  and its entry. Its baseline is a random list of the same coverage: the same weekly listings
  with household identities shuffled.
- Headroom: at 5% capacity, (model - rules) / (oracle - rules) recall on the oracle's rows at
  test cutoffs.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss

from models import metrics as mt


def score_metrics(y: np.ndarray, score: np.ndarray, groups: np.ndarray, *, probability: bool) -> dict[str, float]:
    """AUC, PR-AUC, capacity metrics and, for probabilities, Brier, ECE and observed/expected
    (overall and on the top 5% and top 10% lists, where visits are decided)."""
    y = np.asarray(y).astype(int)
    score = np.asarray(score, dtype=float)
    nan = float("nan")
    base = float(y.mean()) if len(y) else nan
    ece = mt.expected_calibration_error(y, score) if probability else nan
    out = {
        "auc": mt.safe_auc(y, score),
        "pr_auc": mt.safe_average_precision(y, score),
        "brier": float(brier_score_loss(y, score)) if probability else nan,
        "ece": ece,
        "ece_relative": ece / base if probability and base > 0 else nan,
        "mean_predicted": float(score.mean()) if probability else nan,
        "base_rate": base,
        "entrants": int(y.sum()),
        "observed_expected": mt.observed_expected(y, score) if probability else nan,
        **mt.at_capacity(y, score, groups),
    }
    for share, name in ((0.05, "top5"), (0.10, "top10")):
        listed = mt.top_share(score, groups, share)
        out[f"{name}_observed_expected"] = mt.observed_expected(y[listed], score[listed]) if probability else nan
    return out


def slice_masks(frame: pd.DataFrame, extra: Mapping[tuple[str, str], np.ndarray] | None = None,
                ) -> dict[tuple[str, str], np.ndarray]:
    """The slices that protect people: (slice, value) -> row mask, plus ``extra`` ones (such as the
    households meeting no official criterion yet, which need the policy)."""
    masks: dict[tuple[str, str], np.ndarray] = {}
    for col in ("township", "category"):
        for value in sorted(frame[col].astype(str).unique()):
            masks[(col, value)] = (frame[col].astype(str) == value).to_numpy()
    masks[("elderly_only", "true")] = frame["elderly_only"].astype(bool).to_numpy()
    masks[("disabled_member", "true")] = (frame["n_disabled"] > 0).to_numpy()
    masks[("chronic_or_major_illness", "true")] = ((frame["n_chronic"] + frame["n_major_illness"]) > 0).to_numpy()
    masks[("minority_township", "true")] = frame["minority_township"].astype(bool).to_numpy()
    masks[("minority_township", "false")] = ~frame["minority_township"].astype(bool).to_numpy()
    masks.update(extra or {})
    return masks


SLICE_LABELS = {
    "township": "乡镇 / township",
    "category": "户类型 / household category",
    "elderly_only": "纯老年人家庭 / elderly-only",
    "disabled_member": "有残疾成员 / disabled member",
    "chronic_or_major_illness": "有慢性病或大病成员 / chronic or major illness",
    "minority_township": "少数民族乡镇 / ethnic-minority township",
    "no_criterion": "尚未符合任何纳入标准 / meets no official criterion yet",
}


def slice_table(frame: pd.DataFrame, y: np.ndarray, scores: Mapping[str, np.ndarray], groups: np.ndarray,
                masks: Mapping[tuple[str, str], np.ndarray] | None = None) -> pd.DataFrame:
    """Per slice: rows, entrants, and for each scorer AUC within the slice and recall at 5%/10%
    of the county-wide lists; for the model also observed/expected within the slice."""
    y = np.asarray(y).astype(int)
    listed = {name: {share: mt.top_share(s, groups, share) for share in mt.CAPACITIES} for name, s in scores.items()}
    rows = []
    for (col, value), mask in (masks if masks is not None else slice_masks(frame)).items():
        if not mask.any():
            continue
        ys = y[mask]
        row: dict[str, object] = {"slice": col, "value": value, "rows": int(mask.sum()), "entrants": int(ys.sum()),
                                  "base_rate": float(ys.mean())}
        for name, s in scores.items():
            row[f"{name}_auc"] = mt.safe_auc(ys, np.asarray(s)[mask])
            for share in mt.CAPACITIES:
                recall, _ = mt.recall_precision(ys, listed[name][share][mask])
                row[f"{name}_recall_at_{mt.capacity_key(share)}"] = recall
        if "model" in scores:
            row["model_observed_expected"] = mt.observed_expected(ys, np.asarray(scores["model"])[mask])
        rows.append(row)
    return pd.DataFrame(rows)


def calibration_table(y: np.ndarray, p: np.ndarray, groups: np.ndarray) -> pd.DataFrame:
    """Observed/expected where decisions are made: overall, per test cutoff, top 5%, top decile.

    Rows: ``where`` (overall / cutoff / top 5% / top 10%), ``value`` (the cutoff's date),
    ``rows``, ``observed`` (entrants), ``expected`` (sum of predictions), ``observed_expected``.
    """
    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=float)
    parts: list[tuple[str, str, np.ndarray]] = [("overall", "", np.ones(len(y), dtype=bool))]
    for g in sorted(pd.unique(groups)):
        parts.append(("cutoff", str(pd.Timestamp(g).date()) if isinstance(g, (pd.Timestamp, np.datetime64)) else str(g),
                      np.asarray(groups) == g))
    for share, name in ((0.05, "top 5%"), (0.10, "top 10%")):
        parts.append((name, "", mt.top_share(p, groups, share)))
    return pd.DataFrame([{"where": where, "value": value, "rows": int(mask.sum()), "observed": int(y[mask].sum()),
                          "expected": float(p[mask].sum()), "observed_expected": mt.observed_expected(y[mask], p[mask])}
                         for where, value, mask in parts])


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


def list_coverage(listings: pd.DataFrame, eligible: int, weeks: int = 52) -> float:
    """Share of eligible households on at least one weekly list over the first ``weeks`` weeks."""
    if listings.empty or eligible <= 0:
        return float("nan")
    first = listings["week"].min()
    year = listings.loc[listings["week"] < first + pd.Timedelta(weeks=weeks), "household_id"]
    return float(year.nunique() / eligible)


def random_list_lead(listings: pd.DataFrame, entries: pd.DataFrame, households: np.ndarray, *,
                     horizon_weeks: int = 52, draws: int = 20, seed: int = 0) -> dict[str, float]:
    """Lead time of a random list with the same coverage: the model's weekly listings with the
    household identities shuffled among the eligible households, averaged over ``draws``.

    A list that covers a seventh of the county over a year "warns" of a seventh of the entrants
    by chance; the model's early-warning value is what it adds to that.
    """
    rng = np.random.default_rng(seed)
    households = np.asarray(households)
    shares, medians = [], []
    for _ in range(draws):
        mapping = pd.Series(rng.permutation(households), index=households)
        shuffled = listings.assign(household_id=listings["household_id"].map(mapping).to_numpy())
        lead = lead_times(shuffled, entries, horizon_weeks=horizon_weeks)
        shares.append(lead["share_warned"])
        medians.append(lead["median_lead_weeks"])
    return {"share_warned": float(np.mean(shares)), "median_lead_weeks": float(np.mean(medians)), "draws": draws}


def recall_headroom(recalls: Mapping[str, float]) -> float | None:
    """(model - rules) / (oracle - rules) recall at capacity: the share of the gap between the
    rules and the best achievable ranking that the model closes."""
    gap = recalls["oracle"] - recalls["rules"]
    if not np.isfinite(gap) or gap <= 0:
        return None
    return float((recalls["model"] - recalls["rules"]) / gap)


def headroom_share(auc: float, oracle_auc: float | None) -> float | None:
    """(AUC - 0.5) / (oracle AUC - 0.5): the share of the achievable improvement over chance."""
    if oracle_auc is None or not np.isfinite(oracle_auc) or oracle_auc <= 0.5:
        return None
    return float((auc - 0.5) / (oracle_auc - 0.5))


def slice_summary(slices: pd.DataFrame) -> dict[str, dict[str, object]]:
    """'slice=value' -> entrants, model recall at 5% with its interval and observed/expected."""
    def value(row: dict, key: str) -> object:
        v = row.get(key)
        return None if v is None or (isinstance(v, float) and not np.isfinite(v)) else v

    return {f"{r['slice']}={r['value']}": {
        "entrants": int(r["entrants"]), "recall_at_5pct": value(r, "model_recall_at_5pct"),
        "ci": [value(r, "model_recall_at_5pct_low"), value(r, "model_recall_at_5pct_high")],
        "observed_expected": value(r, "model_observed_expected")}
        for r in slices.to_dict(orient="records")}
