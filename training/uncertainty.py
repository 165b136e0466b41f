"""Household-clustered bootstrap 95% intervals for the test figures.

Test rows are several overlapping 52-week windows of the *same* households: a household that
enters monitoring is a positive at several cutoffs, so rows are not independent and a row
bootstrap would give intervals that are too narrow. Each replicate draws households with
replacement and weights every row of a household by how often it was drawn. The watch lists stay
as they were published (a household's listing does not depend on who else was drawn), so recall
at capacity is the weighted share of entrants the fixed lists caught.

Weighted AUC and average precision are computed from one sort per score (only the weights change
between replicates), which keeps a few hundred replicates cheap on 100,000 rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from models import metrics as mt

LEVEL = 0.95


class RankedScore:
    """A score sorted once, with its ties grouped, for weighted AUC and average precision."""

    def __init__(self, y: np.ndarray, score: np.ndarray):
        score = np.asarray(score, dtype=float)
        self.order = np.argsort(-score, kind="stable")
        ranked = score[self.order]
        self.positive = np.asarray(y).astype(bool)[self.order]
        self.tie_group = np.r_[0, np.cumsum(ranked[1:] != ranked[:-1])] if len(ranked) else np.zeros(0, int)
        self.groups = int(self.tie_group[-1]) + 1 if len(ranked) else 0

    def auc_ap(self, weight: np.ndarray | None = None) -> tuple[float, float]:
        """(ROC-AUC, average precision) with row weights (None: every row once).

        Tied scores count half a pair for AUC and form one threshold for average precision,
        as in scikit-learn.
        """
        w = np.ones(len(self.order)) if weight is None else np.asarray(weight, dtype=float)[self.order]
        pos = np.bincount(self.tie_group, weights=w * self.positive, minlength=self.groups)
        neg = np.bincount(self.tie_group, weights=w * ~self.positive, minlength=self.groups)
        total_pos, total_neg = pos.sum(), neg.sum()
        if total_pos <= 0 or total_neg <= 0:
            return float("nan"), float("nan")
        neg_below = total_neg - np.cumsum(neg)  # scores are descending: later groups rank lower
        auc = float((pos * (neg_below + 0.5 * neg)).sum() / (total_pos * total_neg))
        tp, fp = np.cumsum(pos), np.cumsum(neg)
        precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
        ap = float((pos / total_pos * precision).sum())
        return auc, ap


def household_weights(households: np.ndarray, replicates: int, seed: int) -> Iterator[np.ndarray]:
    """Row weights of each replicate: how often the row's household was drawn."""
    codes, n = _codes(households)
    rng = np.random.default_rng(seed)
    for _ in range(replicates):
        drawn = np.bincount(rng.integers(0, n, n), minlength=n)
        yield drawn[codes].astype(float)


def _codes(households: np.ndarray) -> tuple[np.ndarray, int]:
    uniques, codes = np.unique(np.asarray(households).astype(str), return_inverse=True)
    return codes, len(uniques)


def interval(values: list[float] | np.ndarray, level: float = LEVEL) -> list[float | None]:
    """[low, high] percentile interval of the finite replicate values ([None, None] without any)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return [None, None]
    tail = (1 - level) / 2 * 100
    return [float(np.percentile(v, tail)), float(np.percentile(v, 100 - tail))]


def bootstrap(
    y: np.ndarray,
    scores: Mapping[str, np.ndarray],
    groups: np.ndarray,
    households: np.ndarray,
    *,
    slices: Mapping[str, np.ndarray] | None = None,
    best_rules: tuple[str, ...] = ("rules", "rules_fitted"),
    replicates: int = 200,
    seed: int = 0,
) -> dict[str, object]:
    """95% intervals for each scorer's AUC, PR-AUC, recall at 5% and 10%, the model's recall
    ratio against the stronger rules baseline, and the model's recall at 5% per slice.

    Args:
        y: 0/1 labels of the test rows.
        scores: scorer name -> score per row ("model" must be one of them).
        groups: the cutoff of each row (lists are per cutoff).
        households: the household of each row (the resampling unit).
        slices: slice name -> row mask, for slice recall at 5%.
        best_rules: the rules scorers; per replicate the stronger one's recall is the ratio's
            denominator.
        replicates: bootstrap replicates.
        seed: random seed.

    Returns:
        ``{scorer: {metric: [low, high]}}``, ``recall_ratio_ci``, ``slices: {name: [low, high]}``,
        ``replicates`` and ``households``.
    """
    y = np.asarray(y).astype(bool)
    ranked = {name: RankedScore(y, s) for name, s in scores.items()}
    listed = {name: {q: mt.top_share(s, groups, q) for q in mt.CAPACITIES} for name, s in scores.items()}
    entrants = np.flatnonzero(y)  # recall needs only the entrants' rows
    draws: dict[str, dict[str, list[float]]] = {n: {"auc": [], "pr_auc": []} for n in scores}
    for name in scores:
        draws[name].update({f"recall_at_{mt.capacity_key(q)}": [] for q in mt.CAPACITIES})
    ratio: list[float] = []
    slice_draws: dict[str, list[float]] = {k: [] for k in (slices or {})}
    for w in household_weights(households, replicates, seed):
        w_pos = w[entrants]
        total = w_pos.sum()
        for name in scores:
            auc, ap = ranked[name].auc_ap(w)
            draws[name]["auc"].append(auc)
            draws[name]["pr_auc"].append(ap)
            for q in mt.CAPACITIES:
                hit = listed[name][q][entrants]
                draws[name][f"recall_at_{mt.capacity_key(q)}"].append((w_pos * hit).sum() / total if total else np.nan)
        rules = [draws[n]["recall_at_5pct"][-1] for n in best_rules if n in scores]
        best = max(rules) if rules else np.nan
        ratio.append(draws["model"]["recall_at_5pct"][-1] / best if best and np.isfinite(best) else np.nan)
        model_hit = listed["model"][0.05][entrants]
        for key, mask in (slices or {}).items():
            m = np.asarray(mask)[entrants]
            denominator = (w_pos * m).sum()
            slice_draws[key].append((w_pos * m * model_hit).sum() / denominator if denominator else np.nan)
    return {
        **{name: {metric: interval(v) for metric, v in values.items()} for name, values in draws.items()},
        "recall_ratio_ci": interval(ratio),
        "slices": {key: interval(v) for key, v in slice_draws.items()},
        "replicates": replicates,
        "households": _codes(households)[1],
    }
