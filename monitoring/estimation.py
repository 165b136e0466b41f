"""This week's list quality before its outcomes are known: confidence-based performance estimation.

CBPE (as NannyML names it; NannyML itself is not used: it pins an older LightGBM and pulls cloud
and analytics clients, see DEPENDENCIES.md). With calibrated probabilities, a household with risk
p enters monitoring with probability p, so the *expected* number of entrants on a list is the sum
of its probabilities, and the expected number in the whole county the sum over all eligible
households. Hence, for the list of the top ``capacity`` share by risk (as ``models.metrics``
defines it):

    expected recall    = sum(p on the list) / sum(p of every eligible household)
    expected precision = sum(p on the list) / households on the list

and the expected AUC is the expected share of (entrant, non-entrant) pairs ranked the right way,
each pair weighted by p_i (1 - p_j). The estimate is only as good as the calibration and assumes no
concept shift: a new poverty line changes who enters monitoring for the same features, which the
probabilities cannot see. That is why each estimate is checked against the realised figure once
the week's 52 weeks have passed (``monitoring.performance``).
"""

from __future__ import annotations

import numpy as np

from models import metrics as mt


def expected_auc(p: np.ndarray) -> float | None:
    """Expected ROC-AUC of ranking by ``p`` if each row is an entrant with probability ``p``.

    Pairs of one row with itself are excluded; tied scores count half, as in scikit-learn.
    """
    p = np.asarray(p, dtype="float64")
    if len(p) < 2:
        return None
    order = np.argsort(-p, kind="stable")
    ranked = p[order]
    tie = np.r_[0, np.cumsum(ranked[1:] != ranked[:-1])]
    pos = np.bincount(tie, weights=ranked)
    neg = np.bincount(tie, weights=1.0 - ranked)
    neg_below = neg.sum() - np.cumsum(neg)
    concordant = (pos * (neg_below + 0.5 * neg)).sum() - 0.5 * (ranked * (1.0 - ranked)).sum()
    pairs = pos.sum() * neg.sum() - (ranked * (1.0 - ranked)).sum()
    return float(concordant / pairs) if pairs > 0 else None


def estimated_performance(p: np.ndarray, capacity: float) -> dict[str, float | int | None]:
    """Expected recall, precision (with a 95% interval) and AUC of the top-``capacity`` list of
    the eligible households' calibrated probabilities ``p`` (see :func:`list_estimate`)."""
    p = np.asarray(p, dtype="float64")
    return list_estimate(p, mt.top_share(p, np.zeros(len(p)), capacity))


def list_estimate(p: np.ndarray, listed: np.ndarray) -> dict[str, float | int | None]:
    """Expected figures of a given list (a township's part of the county list, say).

    Returns:
        ``households``, ``listed``, ``expected_entrants``, ``estimated_recall_at_capacity``,
        ``estimated_precision_at_capacity`` (+ ``_low``/``_high``: the entrants on the list are a
        sum of independent Bernoulli draws, variance sum p (1 - p)), ``estimated_auc``.
    """
    p = np.asarray(p, dtype="float64")
    listed = np.asarray(listed, dtype=bool)
    hits, total, n = float(p[listed].sum()), float(p.sum()), int(listed.sum())
    precision = hits / n if n else None
    spread = 1.96 * float(np.sqrt((p[listed] * (1 - p[listed])).sum())) / n if n else 0.0
    return {
        "households": int(len(p)),
        "listed": n,
        "expected_entrants": total,
        "estimated_recall_at_capacity": hits / total if total > 0 else None,
        "estimated_precision_at_capacity": precision,
        "estimated_precision_at_capacity_low": None if precision is None else max(0.0, precision - spread),
        "estimated_precision_at_capacity_high": None if precision is None else min(1.0, precision + spread),
        "estimated_auc": expected_auc(p),
    }
