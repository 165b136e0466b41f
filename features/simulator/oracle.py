"""The true 12-month risk: each household's next 52 weeks re-simulated many times.

At a cutoff the full state is copied (latent traits, pending identifications, running incomes);
a sample of households not under monitoring is replicated ``replicas`` times into one batch (each
replica with its own villages and townships, so shared shocks stay shared within a future) and
advanced 52 weeks with a random stream independent of the realised history. The share of futures
in which a household enters monitoring is its true risk: no model can do better on average.
"""

from __future__ import annotations

import numpy as np

from features.simulator import state as S
from features.simulator.calendar import Week
from features.simulator.parameters import Parameters
from features.simulator.step import advance

HORIZON_WEEKS = 52


def sample_households(c: S.County, n: int, rng: np.random.Generator) -> np.ndarray:
    """Households present and not under monitoring at the cutoff (all, or a sorted sample)."""
    ok = np.flatnonzero((c.h["size"] > 0) & ~c.h["monitored"])
    if len(ok) <= n:
        return ok
    return np.sort(rng.choice(ok, n, replace=False))


def true_risk(c: S.County, households: np.ndarray, future: list[Week], replicas: int,
              rng: np.random.Generator, p: Parameters, batch: int = 250_000) -> np.ndarray:
    """P(enter monitoring within the weeks of ``future``) for each chosen household."""
    per_batch = max(1, batch // max(len(households), 1))
    hits = np.zeros(len(households))
    done = 0
    while done < replicas:
        r = min(per_batch, replicas - done)
        rep = c.replicate(households, r)
        entered = np.zeros(rep.n_households, bool)
        for week in future:
            idx = advance(rep, week, rng, p, None)
            entered[idx] = True
        hits += entered.reshape(r, len(households)).sum(0)
        done += r
    return hits / replicas


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """Area under the ROC curve (rank form, ties averaged)."""
    score = np.asarray(score, float)
    label = np.asarray(label, bool)
    pos, neg = label.sum(), (~label).sum()
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):  # average ranks of ties (vectorised would need scipy; n is a few thousand)
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[label].sum() - pos * (pos + 1) / 2) / (pos * neg))
